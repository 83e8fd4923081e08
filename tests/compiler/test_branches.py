"""Guarded steps (the branches of a traced ``tf.cond``): liveness, zeros where a skipped branch's value is read,
no folding or fusing across a guard, state and random draws of the branch the trace does not take put back."""

import os

import numpy as np
import pytest

from featherflow.backend import random as backend_random
from featherflow.compiler import Program, Tracer, fusion, state
from featherflow.compiler.branches import select, under


def _branchy(tracer, x, extra=None):
    p = x.sum() > 0.0
    with under(tracer, ((p._slot, True),)):
        a = np.sqrt(x) * 2.0 + 1.0
    with under(tracer, ((p._slot, False),)):
        b = np.negative(x) - 1.0
        leak = b * 3.0  # read outside its branch below
    joined = tracer.function(select, (p, a, b), {})
    return joined, leak + 0.5


def _compile(x0):
    tracer = Tracer()
    with tracer:
        x = tracer.input(x0)
        joined, leaked = _branchy(tracer, x)
    return Program(tracer, [joined, leaked], ["x"]), [tracer.real(joined), tracer.real(leaked)]


def _reference(x):
    if x.sum() > 0.0:
        return np.sqrt(x) * 2.0 + 1.0, np.full_like(x, 0.5)
    b = -x - 1.0
    return b, b * 3.0 + 0.5


@pytest.mark.parametrize("start", [[1.0, 4.0], [-1.0, -4.0]])
def test_each_call_runs_its_branch_and_reads_zeros_from_the_other(start):
    program, traced = _compile(np.array(start))
    for got, want in zip(traced, _reference(np.array(start))):  # the trace's own values: what a call gives
        np.testing.assert_array_equal(got, want)
    for values in ([9.0, 16.0], [-2.0, -3.0], [0.0, 0.0], [4.0, 1.0]):
        x = np.array(values)
        for got, want in zip(program(x), _reference(x)):
            np.testing.assert_array_equal(got, want)
    source = program.source
    assert "greater(" in source  # the predicate stays live: only guards read it
    filled = [line for line in source.splitlines() if " else zeros(" in line]
    assert len(filled) == 1 and "multiply" in filled[0], source  # only the value read outside its branch
    assert source.count(" if t") >= 2 and "if not t" in source


def test_a_guarded_step_with_constant_inputs_is_not_folded():
    tracer = Tracer()
    with tracer:
        x = tracer.input(np.array(2.0))
        p = x > 0.0
        with under(tracer, ((p._slot, True),)):
            c = np.ones_like(x) * 5.0  # constant at compile time, but made only when the branch runs
        y = tracer.function(select, (p, c, x), {})
    program = Program(tracer, [y], ["x"])
    assert program(np.array(3.0))[0] == 5.0 and program(np.array(-3.0))[0] == -3.0


@pytest.mark.skipif(os.environ.get("FEATHERFLOW_NUMBA") == "0" or not fusion.available(),
                    reason="needs Numba fusion on")
def test_guarded_chains_are_not_fused_and_stay_correct():
    mode = fusion._settings["mode"]
    fusion.set_fusion("on")
    try:
        x0 = np.linspace(-1.0, 1.0, 4096)
        tracer = Tracer()
        with tracer:
            x = tracer.input(x0)
            p = x.sum() > 0.0
            with under(tracer, ((p._slot, True),)):
                a = ((x * 2.0 + 1.0) * 3.0 - 4.0) * 0.5
            y = tracer.function(select, (p, a, x), {})
            z = ((x * 2.0 + 1.0) * 3.0 - 4.0) * 0.5  # the same chain outside a branch: fused
        program = Program(tracer, [y, z], ["x"])
        assert program.fused and len(program.groups) == 1
        for sign in (1.0, -1.0):
            xs = x0 * sign + 0.1 * sign
            want = ((xs * 2.0 + 1.0) * 3.0 - 4.0) * 0.5
            got = program(xs)
            np.testing.assert_allclose(got[0], want if xs.sum() > 0 else xs, rtol=1e-15)
            np.testing.assert_allclose(got[1], want, rtol=1e-15)
    finally:
        fusion._settings["mode"] = mode


def test_the_untaken_branch_leaves_state_and_the_generator_as_they_were():
    counter = np.zeros(2)
    backend_random.set_seed(5)
    draws_before = backend_random.generator().bit_generator.state
    tracer = Tracer()
    with tracer:
        x = tracer.input(np.array(-1.0))
        c = state(counter, "counter")
        p = x > 0.0
        with under(tracer, ((p._slot, True),)):  # dead in the trace: x < 0
            np.add(c, 1.0, out=c)
            backend_random.generator().random()
    assert counter.tolist() == [0.0, 0.0]
    assert backend_random.generator().bit_generator.state == draws_before
    program = Program(tracer, [], ["x"])
    program(np.array(2.0))
    program(np.array(-2.0))
    assert counter.tolist() == [1.0, 1.0]
