"""tf.debugging asserts (TensorFlow's messages and exception types) and numeric checks."""

import numpy as np
import pytest

import featherflow as ff

D = ff.debugging


def test_value_assertions_pass_and_fail_with_tensorflow_messages():
    assert D.assert_equal([1, 2], [1, 2]) is None
    with pytest.raises(ff.errors.InvalidArgumentError) as info:
        D.assert_equal(ff.constant([1, 2]), ff.constant([1, 3]), message="custom msg")
    text = str(info.value)
    assert text.startswith("custom msg\nCondition x == y did not hold.") and "Indices of first 1 different" in text
    assert isinstance(info.value, ValueError)
    for fn, good, bad in [(D.assert_less, ([1.0], 2.0), ([3.0], 2.0)), (D.assert_greater, ([3.0], 2.0), ([1.0], 2.0)),
                          (D.assert_less_equal, ([2.0], 2.0), ([3.0], 2.0)),
                          (D.assert_greater_equal, ([2.0], 2.0), ([1.0], 2.0)),
                          (D.assert_none_equal, ([1], [2]), ([1], [1]))]:
        assert fn(*good) is None
        with pytest.raises(ff.errors.InvalidArgumentError, match="did not hold"):
            fn(*bad)
    for fn, good, bad in [(D.assert_positive, [1], [0]), (D.assert_negative, [-1], [0]),
                          (D.assert_non_negative, [0], [-1]), (D.assert_non_positive, [0], [1])]:
        assert fn(good) is None
        with pytest.raises(ff.errors.InvalidArgumentError):
            fn(bad)
    assert D.assert_near([1.0], [1.0 + 1e-7]) is None
    with pytest.raises(ff.errors.InvalidArgumentError, match="not equal to tolerance"):
        D.assert_near([1.0], [1.1])
    with pytest.raises(ff.errors.InvalidArgumentError, match="x is"):
        D.Assert(False, ["x is", ff.constant([1, 2])])
    assert ff.assert_equal is D.assert_equal and ff.Assert is D.Assert


def test_static_assertions():
    with pytest.raises(ValueError, match="must have rank 3"):
        D.assert_rank(ff.zeros((2, 3)), 3)
    assert D.assert_rank_at_least(ff.zeros((2, 3)), 1) is None and D.assert_rank_in(ff.zeros(2), [1, 2]) is None
    with pytest.raises(ValueError, match="must have size 3"):
        D.assert_shapes([(ff.zeros((2, 3)), ("N", "D")), (ff.zeros((2, 4)), ("N", "D"))])
    assert D.assert_shapes([(ff.zeros((5, 2, 3)), ("...", "N", 3)), (ff.zeros(2), ("N",))]) is None
    with pytest.raises(TypeError, match="must be of type tf.int32; got tf.float32"):
        D.assert_type(ff.zeros(2), ff.int32)
    with pytest.raises(TypeError, match="integer type"):
        D.assert_integer(ff.zeros(2))
    with pytest.raises(ValueError, match="Expected scalar shape"):
        D.assert_scalar(ff.zeros(2))
    with pytest.raises(ValueError, match="same type"):
        D.assert_same_float_dtype([ff.zeros(2), ff.zeros(2, "float64")])
    with pytest.raises(TypeError, match="proper"):
        D.assert_proper_iterable("abc")
    assert D.is_numeric_tensor(ff.constant([1])) and not D.is_numeric_tensor(np.ones(2))


def test_numeric_checks():
    with pytest.raises(ff.errors.InvalidArgumentError, match="bad : Tensor had NaN values"):
        D.check_numerics(ff.constant([1.0, np.nan]), "bad")
    with pytest.raises(ff.errors.InvalidArgumentError, match="Inf values"):
        D.assert_all_finite(ff.constant([1.0, np.inf]), "bad")
    x = ff.constant(2.0)
    with ff.GradientTape() as tape:
        tape.watch(x)
        y = D.check_numerics(x * x, "fine")
    assert float(tape.gradient(y, x)) == 4.0
    D.enable_check_numerics()
    try:
        with pytest.raises(FloatingPointError):
            ff.constant([1.0]) / ff.constant([0.0])
    finally:
        D.disable_check_numerics()
    with np.errstate(divide="ignore"):  # back to NumPy's default handling: inf, no exception
        assert np.isinf((ff.constant([1.0]) / ff.constant([0.0])).numpy()).all()
