"""dtype rules and bad input: errors name the op and the argument, as issue 2 asks."""

import numpy as np
import pytest

import featherflow as ff

FLOAT_ONLY = [ff.sqrt, ff.exp, ff.math.log, ff.math.log1p, ff.math.rsqrt, ff.sigmoid, ff.tanh, ff.nn.softmax,
              ff.nn.log_softmax, ff.math.erf, ff.math.sin, ff.math.reciprocal, ff.nn.elu, ff.nn.gelu,
              ff.nn.softplus, ff.math.floor, ff.math.reduce_std, ff.math.reduce_variance, ff.reduce_logsumexp,
              ff.nn.l2_loss, ff.math.l2_normalize, ff.norm]


@pytest.mark.parametrize("op", FLOAT_ONLY, ids=lambda f: f.__name__)
def test_float_only_ops_refuse_integers_with_a_clear_error(op):
    with pytest.raises(TypeError, match=f"^{op.__name__}: argument `[a-z_]+` must be a floating-point tensor"):
        op(ff.constant([1, 2]))


FLOAT32_PRESERVING = [
    lambda t: t + 1, lambda t: 2.0 * t, lambda t: t / 3, lambda t: t ** 2, lambda t: ff.sqrt(ff.abs(t)),
    lambda t: ff.reduce_mean(t), lambda t: ff.reduce_std(t), lambda t: ff.matmul(ff.reshape(t, (1, -1)),
                                                                               ff.reshape(t, (-1, 1))),
    lambda t: ff.nn.softmax(t), lambda t: ff.nn.gelu(t), lambda t: ff.math.erf(t), lambda t: ff.einsum("i,i->", t, t),
    lambda t: ff.tensordot(t, t, 1), lambda t: ff.norm(t), lambda t: ff.clip_by_norm(t, 1.0),
    lambda t: ff.maximum(t, 0.5), lambda t: ff.where(t > 0, t, 0.0), lambda t: ff.pad(t, [[1, 1]]),
    lambda t: ff.reduce_logsumexp(t), lambda t: ff.cumsum(t), lambda t: ff.nn.moments(t, [0])[1],
    lambda t: ff.math.top_k(t, 2).values, lambda t: ff.gather(t, [0, 0]),
]


@pytest.mark.parametrize("index", range(len(FLOAT32_PRESERVING)))
def test_float32_in_float32_out(index):
    t = ff.constant([0.5, 1.5, 2.5])
    assert FLOAT32_PRESERVING[index](t).dtype == ff.float32
    t64 = ff.constant(np.array([0.5, 1.5, 2.5]))
    assert FLOAT32_PRESERVING[index](t64).dtype == ff.float64


def test_python_scalars_and_lists_adopt_the_tensor_dtype():
    for dtype in ("float16", "float32", "float64", "int32", "int64"):
        t = ff.ones((2,), dtype=dtype)
        assert (t + 1).dtype == np.dtype(dtype)
        assert (1 + t).dtype == np.dtype(dtype)
        assert (t * [2, 3]).dtype == np.dtype(dtype)
        assert ff.maximum(t, 0).dtype == np.dtype(dtype)


def test_float_scalar_with_integer_tensor_refused():
    with pytest.raises(TypeError, match="multiply: invalid argument `y`"):
        ff.constant([1, 2]) * 0.5
    with pytest.raises(TypeError, match="add: argument `y` holds floats but the other operand is a int32 tensor"):
        ff.constant([1, 2]) + np.array([0.5, 1.0])


@pytest.mark.parametrize("op", [ff.add, ff.subtract, ff.multiply, ff.divide, ff.maximum, ff.minimum, ff.pow,
                                ff.matmul, ff.math.squared_difference, ff.equal, ff.less],
                         ids=lambda f: f.__name__)
def test_mixed_float32_float64_refused(op):
    a = ff.ones((2, 2), dtype="float32")
    b = ff.ones((2, 2), dtype="float64")
    with pytest.raises(TypeError, match=f"{op.__name__}: both operands must have the same dtype, received "
                                        "x.dtype=float32 and y.dtype=float64"):
        op(a, b)


@pytest.mark.parametrize("op", [ff.add, ff.subtract, ff.multiply, ff.divide, ff.maximum, ff.minimum, ff.pow,
                                ff.math.squared_difference, ff.greater, ff.math.floordiv, ff.math.floormod],
                         ids=lambda f: f.__name__)
def test_mismatched_shapes_name_the_op(op):
    with pytest.raises(ValueError, match=f"{op.__name__}: incompatible shapes \\(3,\\) and \\(2,\\)"):
        op(ff.ones((3,)), ff.ones((2,)))


@pytest.mark.parametrize("bad,error,message", [
    ("abc", TypeError, "strings"), ([[1.0], [1.0, 2.0]], ValueError, "ragged"),
    ([1.0, "a"], TypeError, "expected numbers"), (object(), TypeError, "hold numbers"),
    (None, TypeError, "hold numbers"),
])
@pytest.mark.parametrize("op,arg", [(ff.subtract, "x"), (ff.exp, "x"), (ff.reduce_sum, "input_tensor"),
                                    (ff.nn.relu, "features"), (ff.reshape, "tensor")],
                         ids=lambda v: getattr(v, "__name__", v))
def test_bad_input_names_op_and_argument(bad, error, message, op, arg):
    with pytest.raises(error, match=f"{op.__name__}: invalid argument `{arg}`.*{message}"):
        if op is ff.subtract:
            op(bad, 1.0)
        elif op is ff.reshape:
            op(bad, [-1])
        else:
            op(bad)


def test_integer_tensors_are_not_watched_and_get_no_gradient():
    # TensorFlow warns, leaves the integer tensor unwatched and returns None for it (a mixed list of inputs works)
    x, f = ff.constant([1, 2]), ff.constant([1.0, 2.0])
    with ff.GradientTape() as tape:
        with pytest.warns(UserWarning, match="The dtype of the watched tensor must be floating .* got tf.int32"):
            tape.watch([x, f])
        y = ff.cast(x, "float32") * 2.0 * f
    grad_x, grad_f = tape.gradient(y, [x, f])
    assert grad_x is None and grad_f.numpy().tolist() == [2.0, 4.0]


def test_integer_ops_keep_integers():
    a = ff.constant([7, -7])
    np.testing.assert_array_equal((a // 2).numpy(), [3, -4])
    np.testing.assert_array_equal((a % 3).numpy(), [1, 2])
    assert (a * 2).dtype == ff.int32 and ff.abs(a).dtype == ff.int32 and ff.square(a).dtype == ff.int32
    with pytest.raises(ValueError, match="pow: integers to negative integer powers"):
        ff.pow(a, -1)


def test_float16_supported():
    t = ff.constant([1.0, 2.0], dtype="float16")
    assert (t * 2.0).dtype == ff.float16 and ff.nn.relu(t).dtype == ff.float16 and ff.exp(t).dtype == ff.float16
