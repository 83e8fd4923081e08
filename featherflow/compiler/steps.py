"""The records of a trace: ``Slot`` (a traced value inside a step's arguments) and ``Step`` (one recorded
call), and ``slots`` (the slot indices in an argument structure, which the compiler's passes walk).

>>> slots((Slot(2), [1.0, {"k": Slot(5)}], slice(None, Slot(2))), [])
[2, 5, 2]
"""

from __future__ import annotations


class Slot:
    """A reference to the value of program slot ``index`` inside a step's arguments."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"Slot({self.index})"


class Step:
    """One recorded call. ``kind``: ``call`` (``fn(*args, **kwargs)``; ``attr`` names a ufunc method such as
    ``reduce``), ``method`` (``args[0].<attr>(*args[1:], **kwargs)``), ``setitem`` (``args[0][args[1]] =
    args[2]``) or ``host`` (a host call). ``outs``: ``None``, a slot index, or a tuple of them (unpacked).
    ``guard``: ``None``, or the branch conditions (``((slot, polarity), ...)``, outermost first) under which the
    step runs: recorded inside a ``tf.cond`` branch, it runs only when every predicate slot has its polarity."""

    __slots__ = ("kind", "fn", "attr", "args", "kwargs", "outs", "effect", "dynamic", "where", "guard")

    def __init__(self, kind, fn, attr, args, kwargs, effect, where):
        self.kind = kind
        self.fn = fn
        self.attr = attr
        self.args = args
        self.kwargs = kwargs
        self.outs = None
        self.effect = effect
        self.dynamic = False  # an output's shape may depend on the data: never planned into a fixed buffer
        self.where = where
        self.guard = None


def slots(value, out: list) -> list:
    """Append to ``out`` the index of every ``Slot`` in ``value`` (tuples, lists, dict values and slices walked,
    in order, repeats kept) and return it."""
    kind = type(value)
    if kind is Slot:
        out.append(value.index)
    elif kind is tuple or kind is list:
        for v in value:
            slots(v, out)
    elif kind is dict:
        for v in value.values():
            slots(v, out)
    elif kind is slice:
        slots((value.start, value.stop, value.step), out)
    return out


def reads(step: Step):
    """What ``step`` reads, for ``slots``: its arguments and, for a guarded step, its guard's predicates."""
    if step.guard is None:
        return (step.args, step.kwargs)
    return (step.args, step.kwargs, [Slot(slot) for slot, _ in step.guard])
