"""Elementwise ops: values against NumPy float64 references and finite-difference gradients."""

import math

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff

SHAPES = [(), (3,), (2, 5), (4, 1, 3), (0, 3)]
_erf = np.vectorize(math.erf, otypes=[float])
_erfc = np.vectorize(math.erfc, otypes=[float])

# name, featherflow op, float64 reference, input range (kept away from poles and kinks)
UNARY = [
    ("negative", ff.negative, np.negative, (-2, 2)),
    ("square", ff.square, np.square, (-2, 2)),
    ("sqrt", ff.sqrt, np.sqrt, (0.2, 3)),
    ("rsqrt", ff.math.rsqrt, lambda x: 1 / np.sqrt(x), (0.2, 3)),
    ("exp", ff.exp, np.exp, (-2, 2)),
    ("expm1", ff.math.expm1, np.expm1, (-2, 2)),
    ("log", ff.math.log, np.log, (0.2, 3)),
    ("log1p", ff.math.log1p, np.log1p, (-0.5, 3)),
    ("abs", ff.abs, np.abs, (-2, 2)),
    ("reciprocal", ff.math.reciprocal, lambda x: 1 / x, (0.3, 3)),
    ("erf", ff.math.erf, _erf, (-3, 3)),
    ("erfc", ff.math.erfc, _erfc, (-3, 5)),
    ("sin", ff.math.sin, np.sin, (-3, 3)),
    ("cos", ff.math.cos, np.cos, (-3, 3)),
    ("tan", ff.math.tan, np.tan, (-1.2, 1.2)),
    ("atan", ff.math.atan, np.arctan, (-3, 3)),
    ("sinh", ff.math.sinh, np.sinh, (-2, 2)),
    ("cosh", ff.math.cosh, np.cosh, (-2, 2)),
    ("identity", ff.identity, lambda x: x, (-2, 2)),
]


@pytest.mark.parametrize("name,op,ref,domain", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("shape", SHAPES)
def test_unary_value_and_gradient(name, op, ref, domain, shape):
    x = random_array(shape, low=domain[0], high=domain[1])
    np.testing.assert_allclose(op(ff.constant(x)).numpy(), ref(x), rtol=1e-12, atol=1e-14)
    x32 = op(ff.constant(x.astype("float32")))
    assert x32.dtype == ff.float32
    np.testing.assert_allclose(x32.numpy(), ref(x), rtol=2e-6, atol=1e-6)
    check_gradient(op, [x])


def test_erf_accuracy_over_the_whole_line():
    x = np.concatenate([np.linspace(-7, 7, 20001), [-1e-300, 0.0, 1e-300, 30.0, -30.0, np.inf, -np.inf]])
    np.testing.assert_allclose(ff.math.erf(x).numpy(), _erf(x), rtol=0, atol=1e-15)
    tail = np.linspace(0, 26, 2001)
    np.testing.assert_allclose(ff.math.erfc(tail).numpy(), _erfc(tail), rtol=1e-13)


BINARY = [
    ("add", ff.add, np.add, (-2, 2), (-2, 2)),
    ("subtract", ff.subtract, np.subtract, (-2, 2), (-2, 2)),
    ("multiply", ff.multiply, np.multiply, (-2, 2), (-2, 2)),
    ("divide", ff.divide, np.divide, (-2, 2), (0.5, 2)),
    ("pow", ff.pow, np.power, (0.5, 2), (-2, 2)),
    ("maximum", ff.maximum, np.maximum, (-2, 2), (-2, 2)),
    ("minimum", ff.minimum, np.minimum, (-2, 2), (-2, 2)),
    ("squared_difference", ff.math.squared_difference, lambda a, b: (a - b) ** 2, (-2, 2), (-2, 2)),
    ("divide_no_nan", ff.math.divide_no_nan, np.divide, (-2, 2), (0.5, 2)),
    ("floormod", ff.math.floormod, np.mod, (0.1, 3), (0.7, 0.9)),
]
PAIRS = [((3,), (3,)), ((4, 3), (3,)), ((2, 1, 3), (1, 4, 1)), ((), (2, 3)), ((0, 3), (3,)), ((1,), (5,))]


@pytest.mark.parametrize("name,op,ref,dom_x,dom_y", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_binary_value_and_gradient(name, op, ref, dom_x, dom_y, shapes):
    x = random_array(shapes[0], low=dom_x[0], high=dom_x[1])
    y = random_array(shapes[1], seed=1, low=dom_y[0], high=dom_y[1])
    np.testing.assert_allclose(op(x, y).numpy(), ref(x, y), rtol=1e-12)
    out = op(ff.constant(x.astype("float32")), ff.constant(y.astype("float32")))
    assert out.dtype == ff.float32 and out.shape == np.broadcast_shapes(x.shape, y.shape)
    if name == "floormod":  # discontinuous: only differentiate away from the jumps
        check_gradient(op, [x, y], wrt=[0])
    else:
        check_gradient(op, [x, y])


def test_operators_match_ops_and_reflect():
    x = random_array((2, 3))
    y = random_array((3,), seed=1, low=0.5, high=2)
    tx, ty = ff.constant(x), ff.constant(y)
    np.testing.assert_allclose((tx + ty).numpy(), x + y)
    np.testing.assert_allclose((tx - ty).numpy(), x - y)
    np.testing.assert_allclose((tx * ty).numpy(), x * y)
    np.testing.assert_allclose((tx / ty).numpy(), x / y)
    np.testing.assert_allclose((2.0 - tx).numpy(), 2 - x)
    np.testing.assert_allclose((2.0 / ty).numpy(), 2 / y)
    np.testing.assert_allclose((ty ** 2.0).numpy(), y ** 2)
    np.testing.assert_allclose((2.0 ** ty).numpy(), 2 ** y)
    np.testing.assert_allclose((-tx).numpy(), -x)
    np.testing.assert_allclose(abs(tx).numpy(), np.abs(x))
    np.testing.assert_allclose((tx // ty).numpy(), x // y)
    np.testing.assert_allclose((tx % ty).numpy(), x % y)
    check_gradient(lambda a, b: 3.0 - a / b + a ** 2.0, [x, y])


def test_divide_of_integers_gives_float64_like_tensorflow():
    out = ff.divide(ff.constant([1, 2]), ff.constant([2, 4]))
    assert out.dtype == ff.float64
    np.testing.assert_array_equal(out.numpy(), [0.5, 0.5])
    # TensorFlow's truediv table: 8- and 16-bit integers give float32 (an image's uint8 pixels / 255)
    for dtype in ("uint8", "int8", "int16", "uint16"):
        small = ff.constant([200, 3], dtype) / ff.constant([100, 5], dtype) if dtype != "int8" else \
            ff.constant([100, 3], dtype) / 50
        assert small.dtype == ff.float32, dtype
    assert (ff.constant([255], "uint8") / 255).numpy().tolist() == [1.0]
    assert (ff.constant([7], "int64") / 2).dtype == ff.float64


def test_divide_no_nan_zero_denominator_value_and_gradient():
    x = ff.constant([1.0, 2.0])
    y = ff.constant([0.0, 4.0])
    with ff.GradientTape() as tape:
        tape.watch([x, y])
        out = ff.math.divide_no_nan(x, y)
    gx, gy = tape.gradient(out, [x, y])
    np.testing.assert_array_equal(out.numpy(), [0.0, 0.5])
    np.testing.assert_allclose(gx.numpy(), [0.0, 0.25])
    np.testing.assert_allclose(gy.numpy(), [0.0, -2.0 / 16])


def test_maximum_tie_sends_gradient_to_x():
    x = ff.constant([1.0, 2.0])
    y = ff.constant([1.0, 3.0])
    with ff.GradientTape() as tape:
        tape.watch([x, y])
        out = ff.maximum(x, y)
    gx, gy = tape.gradient(out, [x, y])
    np.testing.assert_array_equal(gx.numpy(), [1.0, 0.0])
    np.testing.assert_array_equal(gy.numpy(), [0.0, 1.0])


@pytest.mark.parametrize("shape", [(5,), (2, 3), (0, 2)])
def test_clip_by_value_value_and_gradient(shape):
    x = random_array(shape, low=-2, high=2)
    np.testing.assert_allclose(ff.clip_by_value(x, -0.5, 0.7).numpy(), np.clip(x, -0.5, 0.7))
    check_gradient(lambda t: ff.clip_by_value(t, -0.5, 0.7), [x])


def test_clip_by_value_tensor_bounds_get_gradients():
    x = random_array((4, 3), low=-2, high=2)
    lo = random_array((3,), seed=1, low=-1.0, high=-0.3)
    hi = random_array((4, 1), seed=2, low=0.3, high=1.0)
    np.testing.assert_allclose(ff.clip_by_value(x, ff.constant(lo), ff.constant(hi)).numpy(), np.clip(x, lo, hi))
    check_gradient(ff.clip_by_value, [x, lo, hi])


def test_clip_by_value_rejects_bad_bounds():
    with pytest.raises(ValueError, match="clip_value_min must be <="):
        ff.clip_by_value([1.0], 2.0, 1.0)
    with pytest.raises(TypeError, match="clip_value_min"):
        ff.clip_by_value(ff.constant([1, 2]), 0.5, 3)


def test_add_n_value_and_gradient():
    arrays = [random_array((2, 3), seed=s) for s in range(3)]
    np.testing.assert_allclose(ff.add_n(arrays).numpy(), sum(arrays))
    check_gradient(lambda a, b, c: ff.add_n([a, b, c]), arrays)
    with pytest.raises(ValueError, match="same shape"):
        ff.add_n([np.ones(2), np.ones(3)])


def test_scalar_mul():
    np.testing.assert_allclose(ff.math.scalar_mul(3.0, [1.0, 2.0]).numpy(), [3.0, 6.0])
    check_gradient(lambda s, x: ff.math.scalar_mul(s, x), [np.array(1.5), random_array((3,))])


def test_pow_gradient_with_scalar_exponent_and_negative_base():
    x = random_array((5,), low=-2, high=-0.5)
    check_gradient(lambda t: ff.pow(t, 3.0), [x])
    np.testing.assert_allclose(ff.pow(x, 3.0).numpy(), x ** 3)


def test_cast_gradient_passes_through_and_truncation():
    x = ff.constant(random_array((3, 2)))
    with ff.GradientTape() as tape:
        tape.watch(x)
        out = ff.reduce_sum(ff.cast(x, "float32") * ff.constant(np.arange(6.0).reshape(3, 2), dtype="float32"))
    grad = tape.gradient(out, x)
    assert grad.dtype == ff.float64
    np.testing.assert_array_equal(grad.numpy(), np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(ff.cast([1.7, -1.7, 2.5], "int32").numpy(), [1, -1, 2])
    v = ff.Variable([1.0, 2.0])
    with ff.GradientTape() as tape:
        out = ff.cast(v, "float64") * 2.0
    assert out.dtype == ff.float64
    assert tape.gradient(out, v).dtype == ff.float32
    np.testing.assert_array_equal(out.numpy(), [2.0, 4.0])


def test_cast_from_bool_and_to_bool():
    np.testing.assert_array_equal(ff.cast([True, False], "float32").numpy(), [1.0, 0.0])
    np.testing.assert_array_equal(ff.cast(ff.constant([0.0, 2.0]), "bool").numpy(), [False, True])


def test_stop_gradient_blocks_and_identity_passes():
    x = ff.Variable([1.0, 2.0])
    with ff.GradientTape(persistent=True) as tape:
        blocked = ff.stop_gradient(x) * x
        passed = ff.identity(x) * x
    np.testing.assert_allclose(tape.gradient(blocked, x).numpy(), [1.0, 2.0])
    np.testing.assert_allclose(tape.gradient(passed, x).numpy(), [2.0, 4.0])


@pytest.mark.parametrize("name,op,ref", [
    ("round", ff.round, np.round), ("floor", ff.floor, np.floor), ("ceil", ff.math.ceil, np.ceil),
    ("sign", ff.sign, np.sign),
])
def test_rounding_values_and_no_gradient(name, op, ref):
    x = np.array([-2.5, -1.5, -0.5, 0.0, 0.4, 0.5, 1.5, 2.5, 2.7])
    np.testing.assert_array_equal(op(x).numpy(), ref(x))
    t = ff.constant(x)
    with ff.GradientTape() as tape:
        tape.watch(t)
        out = op(t)
    assert tape.gradient(out, t) is None


def test_round_is_bankers_rounding_and_keeps_ints():
    np.testing.assert_array_equal(ff.round([0.5, 1.5, 2.5, -0.5]).numpy(), [0.0, 2.0, 2.0, -0.0])
    assert ff.round(ff.constant([1, 2])).dtype == ff.int32


def test_float_predicates():
    x = np.array([1.0, np.nan, np.inf, -np.inf, 0.0])
    np.testing.assert_array_equal(ff.math.is_nan(x).numpy(), np.isnan(x))
    np.testing.assert_array_equal(ff.math.is_inf(x).numpy(), np.isinf(x))
    np.testing.assert_array_equal(ff.math.is_finite(x).numpy(), np.isfinite(x))
    with pytest.raises(TypeError, match="is_nan"):
        ff.math.is_nan(ff.constant([1, 2]))
