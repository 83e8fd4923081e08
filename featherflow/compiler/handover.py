"""``fresh_outputs``: a program's calls that hand its result buffers to the caller instead of copying them.

A ``Program`` computes into preallocated buffers it reuses at every call, so it returns a copy of each output
(the next call would overwrite the array the caller holds). A caller that keeps every output of every call
(a ``Dataset.map`` function's batches, queued by ``prefetch`` and kept by the user) pays that copy for nothing:
``fresh_outputs(program)`` returns the output that *is* a planned buffer as it is, and gives the program a new,
empty buffer of the same shape in its place for the next call (an allocation instead of an allocation and a
copy). Any other output (an input passed through, a view, a variable's array) is still copied, so a caller
never shares memory with the program, its inputs or its state.

>>> import numpy as np
>>> from featherflow.compiler import Program, Tracer
>>> tracer = Tracer()
>>> with tracer:
...     x = tracer.input(np.ones(3, dtype=np.uint8))
...     y = x.astype(np.float32) / np.float32(2.0)
>>> run = fresh_outputs(Program(tracer, [y, x], ["x"]))
>>> first = run(np.full(3, 4, dtype=np.uint8))
>>> second = run(np.full(3, 6, dtype=np.uint8))
>>> first[0], second[0], first[0] is second[0]
(array([2., 2., 2.], dtype=float32), array([3., 3., 3.], dtype=float32), False)
"""

from __future__ import annotations

from featherflow.compiler.steps import Slot
from featherflow.compiler.tracer import original


class _FreshOutputs:
    __slots__ = ("_program", "_buffers", "_copied", "_numpy", "_fused", "_empty_like")

    def __init__(self, program) -> None:
        self._program = program
        templates = program._templates
        # per output: the name of the buffer a planned step writes it into (None: not a planned buffer)
        self._buffers = [program._buffer_names.get(t.index) if type(t) is Slot else None for t in templates]
        self._copied = [type(t) is Slot for t in templates]  # constants are returned as they are (as Program does)
        self._empty_like = original("empty_like")
        self._numpy = self._variant(program.source, program.namespace)
        self._fused = None

    def _variant(self, source: str, namespace: dict):
        """``source`` (a program's text) compiled as ``program_fresh``, returning its outputs uncopied."""
        program = self._program
        lines = source.rstrip("\n").split("\n")
        returned = ", ".join(program._expr(t) for t in program._templates)
        lines[0] = lines[0].replace("def program(", "def program_fresh(", 1)
        lines[-1] = f"    return ({returned}{',' if len(program._templates) == 1 else ''})"
        exec(compile("\n".join(lines) + "\n", "<featherflow program (fresh outputs)>", "exec"), namespace)  # noqa: S102
        return namespace.pop("program_fresh")

    def __call__(self, *inputs) -> tuple:
        program = self._program
        if program._fused:
            if self._fused is None:
                self._fused = self._variant(program.fused_source, program._fused_namespace)
            values = self._fused(*inputs)
        elif program.fused_source is not None and program._fn is not program._numpy_fn:
            return program(*inputs)  # not fused yet: the program's own calls count towards fusing it (copied)
        else:
            values = self._numpy(*inputs)
        out = list(values)
        namespace, fused_namespace = program.namespace, program._fused_namespace
        for i, value in enumerate(out):
            name = self._buffers[i]
            if name is not None and value is namespace[name]:  # the planned buffer itself: hand it over
                replacement = self._empty_like(value)
                namespace[name] = replacement
                if fused_namespace is not None:
                    fused_namespace[name] = replacement
            elif self._copied[i]:
                out[i] = value.copy()
        return tuple(out)


def fresh_outputs(program):
    """``program``'s calls (``fn(*inputs) -> tuple of outputs``, as ``program(*inputs)``) with outputs the
    caller owns, handed over without a copy where they are the program's own result buffers (see the module
    docstring). The program itself is unchanged: its own calls still copy.

    Args:
        program: a ``featherflow.compiler.Program``.
    """
    return _FreshOutputs(program)
