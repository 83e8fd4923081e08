"""Forward passes of many parameter vectors at once (a population of the same model).

For a plain chain of ``Dense`` layers (with ``Flatten``, ``Activation``, ``Dropout`` and the noise layers in
between: ``featherflow.keras.models.chain`` decides, as it does for Keras's own array programs) the whole
population runs through batched NumPy matrix products: each layer's kernels of ``P`` individuals are viewed
as one ``(P, in, out)`` array straight from the ``(P, n)`` parameter matrix, through the dense kernel and the
activations of ``featherflow.ops.array_kernels``. Any other model falls back to writing each individual's
parameters into the model and calling ``model(x)``.

The fast plan is checked once against ``model(x)`` on random inputs; if they disagree (an unusual topology,
a custom activation) the fallback is used, so results never depend on the shortcut.

Two entry points:

* ``rows(params, owners, x)``: row ``r`` of ``x`` ``(R, d)`` goes through individual ``owners[r]``
  (reinforcement learning: every row is one running episode). Each row is its own matrix product, so a
  row's output does not depend on which other rows share the call.
* ``shared(params, positions, x)``: every individual sees the same inputs ``x`` ``(B, ...)``
  (a data set). The first layer's kernels are multiplied as one wide matrix in fixed groups of
  ``GROUP`` individuals, placed by ``position % GROUP``, so the result does not depend on how a population
  is split into chunks.

>>> import numpy as np
>>> from featherflow import keras
>>> from featherflow.evolution.parameters import ParameterLayout
>>> model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="tanh"),
...                           keras.layers.Dense(2)])
>>> forward = PopulationForward(model, ParameterLayout(model))
>>> forward.vectorized
True
>>> params = np.stack([forward.layout.initial(s) for s in range(5)])
>>> forward.rows(params, np.array([0, 4]), np.ones((2, 3), np.float32)).shape
(2, 2)
"""

from __future__ import annotations

import numpy as np

from featherflow.core import pause_all_tapes
from featherflow.ops import array_kernels as kernels

GROUP = 16
_sigmoid = kernels.sigmoid


def _log_softmax(x):
    return x - kernels.logsumexp(x, -1)


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805

ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),  # the values of kernels.relu_inplace, without writing into x
    "relu6": lambda x: np.clip(x, 0, 6),
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "hard_sigmoid": lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    "softmax": kernels.softmax,
    "log_softmax": _log_softmax,
    "elu": _elu,
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "softplus": lambda x: np.logaddexp(0, x),
    "softsign": lambda x: x / (np.abs(x) + 1),
    "swish": lambda x: x * _sigmoid(x),
    "silu": lambda x: x * _sigmoid(x),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "exponential": np.exp,
}


def _dense_plan(model, layout):
    """``[("dense", kernel_slice, kernel_shape, bias_slice | None, activation), ("act", name), ("flatten",)]``
    for a chain of Dense layers (``featherflow.keras.models.chain``) whose activations have array forms here,
    or None."""
    from featherflow.keras.models.chain import layer_chain

    links = layer_chain(model)
    if links is None:
        return None
    index = {id(v): i for i, v in enumerate(layout.variables)}
    plan, used = [], set()
    for link in links:
        layer = link.layer
        if link.kind in ("dropout", "noise"):  # the identity at inference
            continue
        if link.kind == "flatten":
            plan.append(("flatten",))
        elif link.activation not in ACTIVATIONS:
            return None
        elif link.kind == "activation":
            plan.append(("act", link.activation))
        else:  # dense
            if id(layer.kernel) not in index:
                return None
            k = index[id(layer.kernel)]
            b = None
            if layer.bias is not None:
                if id(layer.bias) not in index:
                    return None
                b = index[id(layer.bias)]
            used.update([k] if b is None else [k, b])
            plan.append(("dense", layout.slice(k), layout.shapes[k], None if b is None else layout.slice(b),
                         link.activation))
    if len(used) != len(layout.variables) or not any(step[0] == "dense" for step in plan):
        return None
    return plan


def _dense(h, weights, biases, name):
    """A stack of dense layers, ``name(h @ weights + biases)`` (``matmul``'s broadcasting over individuals): the
    dense kernel with its fused activation, or followed by another activation of ``ACTIVATIONS``."""
    if name in kernels.FUSED_ACTIVATIONS:
        return kernels.dense_forward(h, weights, biases, name)
    return ACTIVATIONS[name](kernels.dense_forward(h, weights, biases, None))


def _activate(h, name):
    """The activation of a dense output ``h`` computed already (fresh: fused ones run in place)."""
    return kernels.apply_activation(h, name) if name in kernels.FUSED_ACTIVATIONS else ACTIVATIONS[name](h)


class PopulationForward:
    """Batched forward passes of a model for a population of parameter vectors.

    Args:
        model: the (worker's own) built model; the fallback writes parameters into it.
        layout: its ``ParameterLayout``.
        vectorize: try the NumPy fast path for Dense stacks (default True).

    Attributes:
        vectorized: whether the NumPy fast path is in use.
        input_shape: the model's input shape without the batch axis (None if unknown).
    """

    def __init__(self, model, layout, vectorize: bool = True):
        self.model = model
        self.layout = layout
        shape = getattr(model, "input_shape", None)
        self.input_shape = tuple(shape[1:]) if isinstance(shape, tuple) and shape and \
            all(isinstance(d, int) for d in shape[1:]) else None
        self.plan = _dense_plan(model, layout) if vectorize and self.input_shape is not None else None
        if self.plan is not None and len(self.input_shape) > 1:
            # Dense acts on the last axis; the batched plan needs the input flattened before the first Dense.
            first = next(step[0] for step in self.plan if step[0] != "act")
            if first != "flatten":
                self.plan = None
        if self.plan is not None and not self._plan_matches_model():
            self.plan = None

    @property
    def vectorized(self) -> bool:
        return self.plan is not None

    def _plan_matches_model(self) -> bool:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((3,) + self.input_shape).astype(self.layout.dtype)
        theta = self.layout.get()
        try:
            fast = self.rows(theta[None], np.zeros(3, dtype=np.int64), x)
            with pause_all_tapes():
                reference = np.asarray(self.model(x).numpy())
        except (ValueError, TypeError):
            return False
        return fast.shape == reference.shape and bool(np.allclose(fast, reference, rtol=1e-4, atol=1e-5))

    # -- row-wise: each row its own individual ----------------------------------------------------------
    def rows(self, params: np.ndarray, owners: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Outputs ``(R, out)`` for inputs ``x`` ``(R, *input_shape)``, row ``r`` through ``params[owners[r]]``."""
        params = np.asarray(params)
        owners = np.asarray(owners)
        if self.plan is None:
            return self._rows_fallback(params, owners, x)
        return self.run_rows(self.bind_rows(params, owners), x)

    def bind_rows(self, params: np.ndarray, owners: np.ndarray):
        """Per-row weights for ``run_rows`` (gathered once; reuse while the rows stay the same)."""
        if self.plan is None:
            return ("fallback", params, owners)
        row_params = np.ascontiguousarray(params[owners])
        count = row_params.shape[0]
        steps = []
        for step in self.plan:
            if step[0] == "dense":
                _, kernel, shape, bias, act = step
                weights = row_params[:, kernel].reshape((count,) + shape)
                biases = None if bias is None else row_params[:, bias].reshape(count, 1, shape[1])
                steps.append(("dense", weights, biases, act))
            elif step[0] == "act":
                steps.append(("act", ACTIVATIONS[step[1]]))
            else:
                steps.append(step)
        return ("rows", steps)

    def run_rows(self, bound, x: np.ndarray) -> np.ndarray:
        """Outputs ``(R, out)`` of rows bound by ``bind_rows`` for inputs ``x`` ``(R, *input_shape)``."""
        if bound[0] == "fallback":
            return self._rows_fallback(bound[1], bound[2], x)
        h = np.asarray(x, dtype=self.layout.dtype).reshape(len(x), 1, -1)
        for step in bound[1]:
            if step[0] == "dense":
                _, weights, biases, act = step
                h = _dense(h, weights, biases, act)
            elif step[0] == "act":
                h = step[1](h)
        return h[:, 0, :]

    def _rows_fallback(self, params, owners, x) -> np.ndarray:
        x = np.asarray(x, dtype=self.layout.dtype)
        out = None
        with pause_all_tapes():
            for owner in np.unique(owners):
                rows = np.flatnonzero(owners == owner)
                self.layout.set(params[owner])
                y = np.asarray(self.model(x[rows]).numpy())
                if out is None:
                    out = np.empty((len(x),) + y.shape[1:], dtype=y.dtype)
                out[rows] = y
        return out

    # -- shared inputs: every individual on the same data ----------------------------------------------
    def shared(self, params: np.ndarray, positions: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Outputs ``(P, B, out)`` of every individual ``params[p]`` on the same inputs ``x`` ``(B, ...)``.

        ``positions`` ``(P,)`` are the individuals' places in the whole population (they fix the grouping of
        the first layer's wide matrix product, so a result does not depend on the chunk it was computed in).
        """
        params = np.asarray(params)
        x = np.asarray(x, dtype=self.layout.dtype)
        if self.plan is None:
            outs = []
            with pause_all_tapes():
                for p in range(len(params)):
                    self.layout.set(params[p])
                    outs.append(np.asarray(self.model(x).numpy()))
            return np.stack(outs)
        count = len(params)
        h = x  # shared (B, ...) until the first Dense layer, then per individual (P, B, units)
        per_individual = False
        for step in self.plan:
            if step[0] == "flatten":
                h = h.reshape(h.shape[:2] + (-1,)) if per_individual else h.reshape(len(h), -1)
            elif step[0] == "act":
                h = ACTIVATIONS[step[1]](h)
            else:
                _, kernel, shape, bias, act = step
                weights = params[:, kernel].reshape((count,) + shape)
                biases = None if bias is None else params[:, bias].reshape(count, 1, shape[1])
                if per_individual:
                    h = _dense(h, weights, biases, act)
                else:  # the first layer as wide products in fixed groups, then its bias and activation
                    h = self._first_layer(h, weights, np.asarray(positions))
                    per_individual = True
                    if biases is not None:
                        h += biases
                    h = _activate(h, act)
        if not per_individual:  # pragma: no cover - a plan always has a Dense layer
            h = np.broadcast_to(h, (count,) + h.shape)
        return h

    @staticmethod
    def _first_layer(x, weights, positions) -> np.ndarray:
        """``x @ weights[p]`` for every p as wide products over groups of ``GROUP`` placed by position."""
        count, fan_in, units = weights.shape
        out = np.empty((count, len(x), units), dtype=np.result_type(x, weights))
        groups = positions // GROUP
        for group in np.unique(groups):
            members = np.flatnonzero(groups == group)
            wide = np.zeros((fan_in, GROUP, units), dtype=weights.dtype)
            wide[:, positions[members] % GROUP, :] = weights[members].transpose(1, 0, 2)
            product = (x @ wide.reshape(fan_in, GROUP * units)).reshape(len(x), GROUP, units)
            out[members] = product[:, positions[members] % GROUP, :].transpose(1, 0, 2)
        return out
