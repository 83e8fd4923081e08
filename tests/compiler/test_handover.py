"""compiler.fresh_outputs: a program's result buffers handed to the caller, never shared with the next call, the
program's inputs or its state."""

import os

import numpy as np
import pytest

from featherflow.compiler import Program, Tracer, fresh_outputs, fusion


def _compile(fn, *inputs):
    tracer = Tracer()
    with tracer:
        traced = [tracer.input(x) for x in inputs]
        out = fn(*traced)
    outs = list(out) if isinstance(out, tuple) else [out]
    return Program(tracer, outs, [f"x{i}" for i in range(len(inputs))])


def _normalise(x, y):
    return x.astype(np.float32) / np.float32(255.0), y


def test_outputs_equal_the_programs_and_each_call_gets_its_own_arrays():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 3), dtype=np.uint8)
    y = np.arange(4)
    program = _compile(_normalise, x, y)
    run = fresh_outputs(program)
    batches = [(rng.integers(0, 256, (4, 3), dtype=np.uint8), rng.integers(0, 9, 4)) for _ in range(3)]
    got = [run(a, b) for a, b in batches]
    for (a, b), (gx, gy) in zip(batches, got):  # earlier outputs were not overwritten by later calls
        ex, ey = program(a, b)
        assert gx.dtype == np.float32
        np.testing.assert_array_equal(gx, ex)
        np.testing.assert_array_equal(gy, ey)
    assert not np.shares_memory(got[0][0], got[1][0]) and not np.shares_memory(got[1][0], got[2][0])
    # the program's own calls still copy: their outputs are not the handed-over arrays either
    own = program(*batches[0])[0]
    assert not any(np.shares_memory(own, g[0]) for g in got)


def test_inputs_views_and_constants_are_not_shared():
    x = np.arange(6.0).reshape(2, 3)
    program = _compile(lambda a: (a, (a * 2.0).reshape(3, 2), a[0]), x)
    run = fresh_outputs(program)
    a = np.ones((2, 3))
    out = run(a)
    assert not any(np.shares_memory(o, a) for o in out)  # a passed-through input and a view of it are copies
    before = out[1].copy()
    run(np.zeros((2, 3)))
    np.testing.assert_array_equal(out[1], before)  # a view of a buffer is a copy: the next call leaves it alone
    np.testing.assert_array_equal(before, np.full((3, 2), 2.0))


def test_handed_over_buffer_is_replaced_for_the_next_call():
    program = _compile(lambda a: np.exp(a) + 1.0, np.zeros(3))
    run = fresh_outputs(program)
    first = run(np.zeros(3))[0]
    first[...] = -5.0  # the caller owns it: writing into it changes nothing in the program
    np.testing.assert_allclose(run(np.ones(3))[0], np.e + 1.0)
    np.testing.assert_array_equal(first, -5.0)


def test_fused_program_hands_over_its_buffers_too():
    pytest.importorskip("numba")
    if os.environ.get("FEATHERFLOW_NUMBA") == "0":
        pytest.skip("FEATHERFLOW_NUMBA=0 switches Numba off: nothing fuses")
    mode = fusion._settings["mode"]
    fusion.set_fusion("on")
    try:
        program = _compile(lambda a: (np.tanh(a) * 2.0 + 1.0) * a, np.linspace(-1, 1, 5))
    finally:
        fusion._settings["mode"] = mode
    assert program.fused
    run = fresh_outputs(program)
    inputs = [np.linspace(-2, 2, 5), np.linspace(0, 1, 5)]
    got = [run(v)[0] for v in inputs]
    for v, g in zip(inputs, got):
        np.testing.assert_allclose(g, (np.tanh(v) * 2.0 + 1.0) * v, rtol=1e-12)
    assert not np.shares_memory(got[0], got[1])
