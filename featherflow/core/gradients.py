"""Op-level gradient rules: an op's gradient written with differentiable ops, for gradients of gradients.

Every op records a backward rule on raw arrays (``record``): fast, and all a first-order gradient needs.
When a gradient is itself differentiated (nested tapes, a persistent tape differentiating its own
gradients, ``jacobian`` through an outer tape), the backward pass has to be recorded by the outer tape,
so it runs through ops instead: each op name has a second rule here, ``rule(op, grad)``, computing
the input gradients from Tensors with featherflow ops (tinygrad's gradient table, TensorFlow's
``RegisterGradient``). Its arguments:

- ``op``: an ``OpRecord`` with the recorded ``inputs`` (Tensors), ``outputs`` (a tuple), ``output``
  (the single output), ``needs`` (which inputs want a gradient) and ``captured``, the variables the
  op's raw backward closure holds (axes, shapes, masks: constants of the op, not differentiated);
- ``grad``: the output gradient as a Tensor (a list with one Tensor or None per output for ops with
  several outputs).

It returns one Tensor (or None) per input; gradients of broadcast shape are summed down by the tape.
Only constants may come from ``captured``: anything that depends on an input must be recomputed from
``op.inputs`` / ``op.outputs`` so the outer tape sees the dependency.

>>> import featherflow as ff
>>> x = ff.Variable(3.0)
>>> with ff.GradientTape() as outer:
...     with ff.GradientTape() as inner:
...         y = x * x * x
...     dy = inner.gradient(y, x)
>>> float(dy), float(outer.gradient(dy, x))
(27.0, 18.0)
"""

from __future__ import annotations

_RULES: dict = {}


def register_gradient(op_name: str):
    """Decorator registering ``rule(op, grad)`` as the differentiable gradient of the op named ``op_name``."""
    if not isinstance(op_name, str) or not op_name:
        raise TypeError(f"register_gradient: op_name must be a non-empty string. Received: op_name={op_name!r}")

    def decorate(rule):
        if not callable(rule):
            raise TypeError(f"register_gradient: expected a callable rule for op {op_name!r}. Received: {rule!r}")
        _RULES[op_name] = rule
        return rule

    return decorate


def gradient_rule(op_name: str):
    """The registered differentiable rule for ``op_name``, or None."""
    return _RULES.get(op_name)


def has_gradient_rule(op_name: str) -> bool:
    """True when ``op_name`` has a differentiable (higher-order capable) gradient rule."""
    return op_name in _RULES


class OpRecord:
    """One recorded op, as a differentiable gradient rule sees it."""

    __slots__ = ("name", "inputs", "outputs", "needs", "backward")

    def __init__(self, name, inputs, outputs, needs, backward):
        self.name = name
        self.inputs = tuple(inputs)
        self.outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        self.needs = needs
        self.backward = backward

    @property
    def output(self):
        """The op's output (its first, for an op with several)."""
        return self.outputs[0]

    @property
    def captured(self) -> dict:
        """The free variables of the op's raw backward closure (``{}`` for a plain function), and its ``attrs``
        attribute when it has one (``ops._dual.record_op``)."""
        fn = self.backward
        closure = getattr(fn, "__closure__", None)
        values = {"attrs": fn.attrs} if hasattr(fn, "attrs") else {}
        if not closure:
            return values
        for name, cell in zip(fn.__code__.co_freevars, closure):
            try:
                values[name] = cell.cell_contents
            except ValueError:  # an empty cell (a name assigned after the closure was made)
                continue
        return values

    def __repr__(self) -> str:
        return f"OpRecord({self.name!r}, {len(self.inputs)} inputs)"
