"""compiler.finite_outputs: an output is proven finite only when every step keeps its inputs' bounds bounded;
each proof is checked against the values the program computes on its most extreme inputs."""

import numpy as np
import pytest

from featherflow.compiler import Program, Tracer, dtype_bound, finite_outputs


def _proofs(fn, *inputs, bounds=None):
    tracer = Tracer()
    with tracer, np.errstate(all="ignore"):
        traced = [tracer.input(x) for x in inputs]
        out = fn(*traced)
    outs = list(out) if isinstance(out, tuple) else [out]
    program = Program(tracer, outs, [f"x{i}" for i in range(len(inputs))])
    if bounds is None:
        bounds = [dtype_bound(x.dtype) if x.dtype.kind in "biu" else None for x in inputs]
    return finite_outputs(program, bounds), program


def _extremes(dtype, shape=(4,)):
    info = np.iinfo(dtype)
    return [np.full(shape, info.min, dtype), np.full(shape, info.max, dtype), np.zeros(shape, dtype)]


def test_dtype_bounds():
    assert dtype_bound(np.uint8) == 255.0 and dtype_bound(np.int8) == 128.0 and dtype_bound(np.bool_) == 1.0
    assert dtype_bound(np.float32) is None


@pytest.mark.parametrize("fn", [
    lambda x: x.astype(np.float32) / np.float32(255.0),
    lambda x: (x.astype(np.float32) - 127.5) * 2.0,
    lambda x: np.tanh(x.astype(np.float16) * 100.0),
    lambda x: np.maximum(-x.astype(np.float32), 0.0).reshape(2, 2)[0],
    lambda x: np.exp(x.astype(np.float32) / 255.0),
    lambda x: np.square(x.astype(np.float32) / 100.0) + np.abs(x.astype(np.float32)),
])
def test_bounded_steps_are_proven_finite_and_are(fn):
    x = np.zeros(4, dtype=np.uint8)
    proofs, program = _proofs(fn, x)
    assert proofs == [True]
    for extreme in _extremes(np.uint8):
        assert np.isfinite(program(extreme)[0]).all()


@pytest.mark.parametrize("fn, dtype", [
    (lambda x: x.astype(np.float32) / np.float32(0.0), np.uint8),  # 0 / 0 is NaN
    (lambda x: x.astype(np.float32) / (x.astype(np.float32) - 1.0), np.uint8),  # division by a computed value
    (lambda x: np.sqrt(x.astype(np.float32) - 1.0), np.uint8),  # a sign matters: not followed
    (lambda x: np.log(x.astype(np.float32)), np.uint8),  # log(0) is -inf
    (lambda x: x.astype(np.float16) * 1000.0, np.uint8),  # 255000 overflows float16
    (lambda x: x.astype(np.float32) * 1e30, np.int64),  # beyond the proof's limit
    (lambda x: x.astype(np.float32) / np.float32(np.inf), np.uint8),  # a non-finite constant
])
def test_unbounded_steps_prove_nothing(fn, dtype):
    proofs, _ = _proofs(fn, np.zeros(4, dtype=dtype))
    assert proofs == [False]


def test_float_inputs_and_writes_prove_nothing():
    assert _proofs(lambda x: x / 2.0, np.zeros(3))[0] == [False]  # a float input may hold NaN already

    def writes(x):
        y = x.astype(np.float32)
        y[0] = np.float32(np.nan)  # an in-place write: the program proves nothing
        return y / 2.0

    assert _proofs(writes, np.zeros(3, dtype=np.uint8))[0] == [False]


def test_wrapped_integer_arithmetic_stays_within_the_bound():
    # int8 addition wraps around; the magnitude bound (256) still holds for the wrapped value
    proofs, program = _proofs(lambda x: (x + x).astype(np.float16) * 200.0, np.zeros(2, dtype=np.int8))
    assert proofs == [True]
    for extreme in _extremes(np.int8, (2,)):
        assert np.isfinite(program(extreme)[0]).all()


def test_integer_and_float_outputs_are_proven_separately():
    proofs, _ = _proofs(lambda x, y: (x.astype(np.float32) / 255.0, y, y * 1e300),
                        np.zeros(3, dtype=np.uint8), np.zeros(3, dtype=np.int64), bounds=[255.0, None])
    assert proofs == [True, False, False]


def test_a_numpy_array_read_by_reference_proves_nothing():
    """A plain array in a step is read again at every call (it is not a constant the program owns), so its
    values at trace time bound nothing: set to infinity afterwards, the output is no longer finite."""
    scale = np.full(4, 2.0, np.float32)
    proofs, program = _proofs(lambda x: x.astype(np.float32) * scale, np.zeros(4, np.uint8))
    assert proofs == [False]
    scale[:] = np.inf
    assert not np.isfinite(program(np.ones(4, np.uint8))[0]).all()


def test_scalar_constants_still_prove():
    proofs, _ = _proofs(lambda x: x.astype(np.float32) * np.float32(2.0) - 1.0, np.zeros(4, np.uint8))
    assert proofs == [True]
