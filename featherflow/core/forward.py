"""Forward-mode differentiation: ``tf.autodiff.ForwardAccumulator``.

Jacobian-vector products ``J v`` are computed from the reverse mode by the "double VJP" trick: the
vector-Jacobian product ``u -> J^T u`` is linear in ``u``, so differentiating it w.r.t. ``u`` along the
tangent ``v`` gives ``J v``. The accumulator records the computation on a persistent tape; ``jvp(y)``
runs the backward pass of ``y`` with a watched all-zero ``u`` under a second tape (a higher-order
gradient, see ``core/higher_order.py``), then differentiates that w.r.t. ``u``. Every op on the path
needs a differentiable gradient rule (``core.gradients``); the cost is about two backward passes per
``jvp`` call instead of TensorFlow's one forward pass.

>>> import featherflow as ff
>>> x = ff.constant([1.0, 2.0])
>>> with ForwardAccumulator(x, ff.constant([1.0, 0.0])) as acc:
...     y = x * x * x
>>> acc.jvp(y).numpy()  # d/dt (x + t e0)^3 = 3 x0^2 e0
array([3., 0.], dtype=float32)
"""

from __future__ import annotations

from featherflow.core import tape as _tape
from featherflow.core.nest import flatten_into, pack_from
from featherflow.core.tensor import Tensor


def _flatten(structure):
    return flatten_into(structure, [])


class ForwardAccumulator:
    """Compute Jacobian-vector products of the ops run inside its context w.r.t. ``primals``.

    Args:
        primals: a tensor or nested structure of tensors to differentiate with respect to.
        tangents: the direction ``v``, with the structure, shapes and dtypes of ``primals``.
    """

    def __init__(self, primals, tangents):
        self._primals = _flatten(primals)
        flat_tangents = _flatten(tangents)
        if len(self._primals) != len(flat_tangents):
            raise ValueError(
                f"ForwardAccumulator: primals and tangents must have the same structure. Received "
                f"{len(self._primals)} primals and {len(flat_tangents)} tangents."
            )
        self._tangents = []
        for p, t in zip(self._primals, flat_tangents):
            if not isinstance(p, Tensor):
                raise TypeError(f"ForwardAccumulator: primals must be tensors or variables. Received: {p!r:.60}")
            t = t if isinstance(t, Tensor) else Tensor(_as_array(t, p))
            if t.value.shape != p.value.shape:
                raise ValueError(
                    f"ForwardAccumulator: a tangent must have the shape of its primal. Received: primal shape "
                    f"{tuple(p.shape)}, tangent shape {tuple(t.shape)}"
                )
            self._tangents.append(t)
        self._recorder = _tape.GradientTape(persistent=True, watch_accessed_variables=False)
        self._recorder.watch(self._primals)

    def __enter__(self):
        self._recorder.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        return self._recorder.__exit__(exc_type, exc, tb)

    def jvp(self, primals, unconnected_gradients=_tape.UnconnectedGradients.NONE):
        """``J v`` for each tensor of ``primals`` (a tensor or a nested structure): its derivative along the
        tangents. ``None`` for a tensor that does not depend on the watched primals (or zeros with
        ``unconnected_gradients="zero"``)."""
        unconnected = _tape.UnconnectedGradients(
            unconnected_gradients.value if isinstance(unconnected_gradients, _tape.UnconnectedGradients)
            else unconnected_gradients)
        results = [self._jvp_one(t, unconnected) for t in _flatten(primals)]
        return pack_from(primals, iter(results))

    def _jvp_one(self, target, unconnected):
        if not isinstance(target, Tensor) or target.value.dtype.kind not in "fc":
            return None
        xp_zeros = target.value * 0
        cotangent = Tensor(xp_zeros)  # u: the backward pass is linear in it
        with self._recorder.stop_recording(), _tape.GradientTape() as outer:
            outer.watch(cotangent)
            vjps = self._recorder.gradient(target, self._primals, output_gradients=cotangent)
            total = None
            for g, v in zip(vjps, self._tangents):
                if g is not None:
                    term = g * v  # <J^T u, v>, whose gradient w.r.t. u is J v
                    total = term if total is None else total + term
        if total is None:
            return Tensor(xp_zeros.copy()) if unconnected is _tape.UnconnectedGradients.ZERO else None
        return outer.gradient(total, cotangent, unconnected_gradients=unconnected)

    def __repr__(self) -> str:
        return f"<ForwardAccumulator with {len(self._primals)} primal(s)>"


def _as_array(value, like):
    from featherflow.backend.arrays import array_module

    return array_module(like.value).asarray(value, dtype=like.value.dtype)
