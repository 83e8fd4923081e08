"""The one place that decides whether a model is a chain of layers with array forms, for its array programs.

The population forward of neuroevolution (``featherflow/evolution/forward.py``) runs a model as raw-array
kernels (``featherflow/ops/array_kernels.py``) instead of layer calls. It applies only to a model whose
graph is a plain chain (one input, each layer feeding only the next, one output) of directly called layers
(no masks, dtype casts or activity regularizers: ``GraphPlan`` decides that) of these exact classes (a
subclass that overrides ``call`` keeps its own ``call``):

* ``Dense`` -> ``Link("dense", layer, activation)``, ``activation`` being the Keras name of its activation
  (``"linear"``, ``"relu"``, ``"softmax"``, ...), or ``None`` for a custom callable;
* ``Activation`` -> ``Link("activation", layer, activation)``;
* ``Flatten`` (channels-last) -> ``Link("flatten", layer)``;
* ``Dropout`` -> ``Link("dropout", layer)`` (its ``rate`` and ``noise_shape`` are read from the layer);
* ``SpatialDropout1D/2D/3D``, ``GaussianNoise``, ``GaussianDropout``, ``AlphaDropout`` -> ``Link("noise",
  layer)``: the identity at inference, noise of their own (no array form) while training.

Each program then takes the links it has a form for and returns ``None`` for the rest. The chain is computed
once per plan (a model's plan is rebuilt when its graph changes).

>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(4, 4)), keras.layers.Flatten(),
...                           keras.layers.Dense(8, activation="relu"), keras.layers.Dropout(0.2),
...                           keras.layers.Dense(3, activation="softmax")])
>>> [(link.kind, link.activation) for link in layer_chain(model)]
[('flatten', None), ('dense', 'relu'), ('dropout', None), ('dense', 'softmax')]
>>> layer_chain(model)[1].fused  # the dense op's fused activation (False: applied after, e.g. softmax)
'relu'
"""

from __future__ import annotations

import dataclasses

from featherflow.ops.array_kernels import FUSED_ACTIVATIONS

KINDS = ("dense", "activation", "flatten", "dropout", "noise")


@dataclasses.dataclass(frozen=True)
class Link:
    """One layer of a chain: what kind of array form it has, the layer, and its activation (``activation``: the
    Keras name of a built-in one, else ``None``; ``activation_fn``: the layer's activation when the chain was
    built - a program compares it with ``layer.activation`` and leaves a changed layer to its own ``call``)."""

    kind: str
    layer: object
    activation: str | None = None
    activation_fn: object = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def fused(self):
        """For a ``dense`` link, the activation fused into the dense kernel: ``None`` (linear), ``"relu"``,
        ``"sigmoid"`` or ``"tanh"``; ``False`` when the activation is applied after it (softmax, custom)."""
        if self.activation == "linear":
            return None
        return self.activation if self.activation in FUSED_ACTIVATIONS else False


def layer_chain(model) -> tuple | None:
    """The ``Link``s of ``model`` in call order, or ``None`` when it is not such a chain (see the module)."""
    if not getattr(model, "_is_graph_network", False) or not model.built:
        return None
    from featherflow.keras.models.functional import get_plan

    return plan_chain(get_plan(model))


def plan_chain(plan) -> tuple | None:
    """``layer_chain`` of a ``GraphPlan`` (computed once, kept with the plan)."""
    return plan.memo("layer_chain", _build)


def _build(plan) -> tuple | None:
    if not plan.is_chain:
        return None
    links = []
    for step in plan.steps:
        if not step.direct:
            return None
        link = _link(step.layer)
        if link is None:
            return None
        links.append(link)
    return tuple(links)


def _activation_name(fn) -> str | None:
    """The Keras name of a built-in activation function (``None`` for any other callable)."""
    from featherflow.keras import activations

    name = activations.serialize(fn)
    if not isinstance(name, str):
        return None
    try:
        return name if activations.get(name) is fn else None
    except ValueError:
        return None


def _link(layer) -> Link | None:
    from featherflow.keras import layers as L

    kind = type(layer)
    if kind.call is L.Dense.call and isinstance(layer, L.Dense):
        return Link("dense", layer, _activation_name(layer.activation), layer.activation)
    if kind is L.Activation:
        return Link("activation", layer, _activation_name(layer.activation), layer.activation)
    if kind.call is L.Flatten.call and isinstance(layer, L.Flatten):
        return Link("flatten", layer) if layer.data_format == "channels_last" else None
    if kind.call is L.Dropout.call and isinstance(layer, L.Dropout):
        # SpatialDropout*'s masks have a shape of their own: the identity at inference, no training form
        plain = kind._get_noise_shape is L.Dropout._get_noise_shape
        return Link("dropout" if plain else "noise", layer)
    noise = ("GaussianNoise", "GaussianDropout", "AlphaDropout")
    if kind.__name__ in noise and kind is getattr(L, kind.__name__, None):
        return Link("noise", layer)
    return None
