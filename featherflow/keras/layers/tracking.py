"""A layer's named children for ``tf.train.Checkpoint``, and restores deferred until variables exist.

Names follow the object tree, so a checkpoint written by one process restores in another:

* a sub-layer or variable held by an attribute is named after the attribute (``dense``, ``kernel``);
  lists and dicts of them add the index or key (``blocks/0``);
* the layers of a Sequential or functional model are ``layer-0``, ``layer-1``, ... (``model.layers``
  order); other sub-layers without an attribute are ``layer-<i>`` by their order in the layer;
* a variable without an attribute is named after its own short name (``moving_mean``).

A restore that finds a layer without its variables yet (not built) leaves a callable in the layer's
``_pending_restores``; the layer runs it as soon as it is built (``Layer._run_pending_restores``, before
the call that built it computes anything), and drops it once it reports done.

>>> from featherflow import keras
>>> dense = keras.layers.Dense(2)
>>> dense.build((None, 3))
>>> sorted(trackable_children(dense))
['bias', 'kernel']
"""

from __future__ import annotations

from featherflow.core import Variable

# Attributes that hold featherflow's own bookkeeping, not the user's objects.
_INTERNAL = frozenset({
    "_layers", "_inbound_nodes", "_outbound_nodes", "_trainable_weights", "_non_trainable_weights", "_seq_layers",
    "_seq_outputs", "_input_tensor", "inputs", "outputs", "_outer", "_pending_restores", "_plan", "optimizer",
    "compiled_loss", "compiled_metrics", "_weight_regularizers", "history", "_output_layers", "_input_layers",
    "_metrics",
})


def _is_layer(value) -> bool:
    from featherflow.keras.layers.base import Layer

    return isinstance(value, Layer)


def _trackable(value) -> bool:
    return isinstance(value, Variable) or _is_layer(value)


def trackable_children(layer) -> dict:
    """``{name: sub-layer or variable}`` for ``layer`` (see the module docstring for the names)."""
    children: dict = {}
    seen: set = set()

    def add(name, value):
        if id(value) not in seen and value is not layer:
            seen.add(id(value))
            children[name] = value

    graph = getattr(layer, "_is_graph_network", False) or type(layer).__name__ == "Sequential"
    if graph:
        for i, sub in enumerate(layer.layers):
            add(f"layer-{i}", sub)
    for attr, value in vars(layer).items():
        if attr in _INTERNAL or attr.startswith("__"):
            continue
        if _trackable(value):
            add(attr, value)
        elif isinstance(value, (list, tuple)) and value and all(_trackable(v) for v in value):
            for i, item in enumerate(value):
                add(f"{attr}/{i}", item)
        elif isinstance(value, dict) and value and all(_trackable(v) for v in value.values()):
            for key, item in value.items():
                add(f"{attr}/{key}", item)
    if not graph:
        for i, sub in enumerate(layer.__dict__.get("_layers", [])):
            if f"layer-{i}" not in children:
                add(f"layer-{i}", sub)
    own = list(layer.__dict__.get("_trainable_weights", [])) + list(layer.__dict__.get("_non_trainable_weights", []))
    for variable in own:
        short = variable.name.rsplit("/", 1)[-1].split(":")[0] or "Variable"
        name, n = short, 1
        while name in children:
            name, n = f"{short}_{n}", n + 1
        add(name, variable)
    return children


def run_pending_restores(layer) -> None:
    """Run the restores waiting for ``layer``'s variables; keep those that report not done."""
    pending = layer.__dict__.get("_pending_restores")
    if pending:
        layer._pending_restores = [restore for restore in pending if not restore(layer)]


def add_pending_restore(layer, restore) -> None:
    """Run ``restore(layer) -> done`` once ``layer`` is built (when its variables exist)."""
    pending = layer.__dict__.get("_pending_restores")
    if pending is None:
        layer.__dict__["_pending_restores"] = pending = []
    pending.append(restore)


class WeightsLoadStatus:
    """What ``model.load_weights`` returns for a weights file (not HDF5): done at once, or deferred until the
    model is built (its first call), as tf.keras does for an unbuilt subclassed model."""

    def __init__(self, deferred: bool):
        self.deferred = deferred

    def expect_partial(self):
        """Kept for tf.keras compatibility (unused values are an error here); returns the status."""
        return self

    def assert_consumed(self):
        """Raise ``AssertionError`` while the weights still wait for the model to be built."""
        if self.deferred:
            raise AssertionError("The weights are waiting for the model to be built: call the model on a batch of "
                                 "data (or `model.build(input_shape)`) to restore them.")
        return self

    assert_existing_objects_matched = assert_nontrivial_match = assert_consumed

    def run_restore_ops(self, session=None) -> None:
        """Nothing to run in eager execution."""


def defer_weights(model, assign) -> WeightsLoadStatus:
    """Run ``assign(model)`` once ``model`` is built; the returned status reports when it ran."""
    status = WeightsLoadStatus(deferred=True)

    def restore(layer) -> bool:
        assign(layer)
        status.deferred = False
        return True

    add_pending_restore(model, restore)
    return status
