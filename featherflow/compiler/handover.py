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
    __slots__ = ("_program", "_numpy", "_fused")

    def __init__(self, program) -> None:
        self._program = program
        self._numpy = self._variant(program.source, program.namespace)
        self._fused = None

    def _variant(self, source: str, namespace: dict):
        """``source`` (a program's text) compiled as ``program_fresh``: an output that is its planned buffer is
        returned as it is and the buffer's name bound to a new array; other computed outputs are copied."""
        program = self._program
        lines = source.rstrip("\n").split("\n")
        namespace["_fresh_empty_like"] = original("empty_like")
        handed, tail, returned = [], [], []
        for template in program._templates:
            if type(template) is not Slot:
                returned.append(program._expr(template))  # a constant: returned as it is (as Program does)
                continue
            value = program._expr(template)
            buffer = program._buffer_names.get(template.index)
            if buffer is None:
                returned.append(f"{value}.copy()")
                continue
            name = program._unique("_handed", program._used)
            if buffer not in handed:
                handed.append(buffer)
            tail += [f"    {name} = {value}",
                     f"    if {name} is {buffer}:  # the planned buffer: the caller's now, a new one for the next call",
                     f"        {buffer} = _fresh_empty_like({name})",
                     "    else:",
                     f"        {name} = {name}.copy()"]
            returned.append(name)
        header = lines[0].replace("def program(", "def program_fresh(", 1)
        body = lines[1:-1] + tail + [f"    return ({', '.join(returned)}{',' if len(returned) == 1 else ''})"]
        if handed:
            body.insert(0, f"    global {', '.join(handed)}")
        text = "\n".join([header] + body) + "\n"
        exec(compile(text, "<featherflow program (fresh outputs)>", "exec"), namespace)  # noqa: S102 - our own code
        return namespace.pop("program_fresh")

    def __call__(self, *inputs) -> tuple:
        program = self._program
        if program._fused:
            fused = self._fused
            if fused is None:
                fused = self._fused = self._variant(program.fused_source, program._fused_namespace)
            return fused(*inputs)
        if program.fused_source is not None and program._fn is not program._numpy_fn:
            return program(*inputs)  # not fused yet: the program's own calls count towards fusing it (copied)
        return self._numpy(*inputs)


def fresh_outputs(program):
    """``program``'s calls (``fn(*inputs) -> tuple of outputs``, as ``program(*inputs)``) with outputs the
    caller owns, handed over without a copy where they are the program's own result buffers (see the module
    docstring). The program itself is unchanged: its own calls still copy.

    Args:
        program: a ``featherflow.compiler.Program``.
    """
    return _FreshOutputs(program)
