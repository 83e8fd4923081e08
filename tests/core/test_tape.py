import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff


def test_variable_watched_automatically():
    x = ff.Variable(3.0)
    with ff.GradientTape() as tape:
        y = x * x
    assert float(tape.gradient(y, x)) == 6.0


def test_constant_needs_watch():
    x = ff.constant(3.0)
    with ff.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None


def test_non_persistent_second_call_raises():
    x = ff.Variable(1.0)
    with ff.GradientTape() as tape:
        y = x * 2.0
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, x)


def test_persistent_and_nested_sources():
    a = ff.Variable([1.0, 2.0])
    b = ff.Variable(3.0)
    with ff.GradientTape(persistent=True) as tape:
        y = ff.reduce_sum(a * b)
    grads = tape.gradient(y, {"a": a, "pair": [b, (a,)]})
    np.testing.assert_allclose(grads["a"].numpy(), [3.0, 3.0])
    np.testing.assert_allclose(grads["pair"][0].numpy(), 3.0)
    np.testing.assert_allclose(grads["pair"][1][0].numpy(), [3.0, 3.0])
    np.testing.assert_allclose(tape.gradient(y, b).numpy(), 3.0)


def test_stop_recording_and_unconnected():
    x = ff.Variable(2.0)
    z = ff.Variable(5.0)
    with ff.GradientTape(persistent=True) as tape:
        y = x * x
        with tape.stop_recording():
            w = y * x
    assert tape.gradient(w, x) is None
    assert tape.gradient(y, z) is None
    assert float(tape.gradient(y, z, unconnected_gradients="zero")) == 0.0


def test_non_scalar_target_is_summed():
    x = ff.Variable([1.0, 2.0, 3.0])
    with ff.GradientTape() as tape:
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])


def test_integer_source_refused():
    x = ff.constant([1, 2])
    with ff.GradientTape() as tape:
        with pytest.raises(ValueError, match="floating"):
            tape.watch(x)
        y = x * 2
    with pytest.raises(TypeError, match="floating-point"):
        tape.gradient(ff.cast(y, "float32"), x)


def test_broadcast_gradient_reduced_centrally():
    check_gradient(lambda a, b: a * b + a, [random_array((4, 3)), random_array((3,), seed=1)])
    check_gradient(lambda a, b: a - b, [random_array((2, 1, 3)), random_array((1, 4, 1), seed=1)])


def test_higher_order_refused():
    x = ff.Variable(1.0)
    with ff.GradientTape() as outer:
        with ff.GradientTape() as inner:
            y = x * x
        with pytest.raises(NotImplementedError, match="Higher-order"):
            inner.gradient(y, x)
    del outer


def test_non_trainable_variable_not_watched():
    x = ff.Variable(1.0, trainable=False)
    with ff.GradientTape() as tape:
        y = x * 3.0
    assert tape.gradient(y, x) is None


def test_float32_in_float32_out_and_mixed_dtype_refused():
    a = ff.constant([1.0], dtype="float32")
    b = ff.constant([1.0], dtype="float64")
    assert (a + 1.0).dtype == ff.float32
    with pytest.raises(TypeError, match="same dtype"):
        _ = a + b
    with pytest.raises(TypeError):
        _ = ff.constant([1, 2]) * 0.5


def test_jacobian():
    x = ff.Variable([1.0, 2.0])
    with ff.GradientTape() as tape:
        y = x * x
    jac = tape.jacobian(y, x).numpy()
    np.testing.assert_allclose(jac, np.diag([2.0, 4.0]))


def test_bad_inputs():
    with pytest.raises(ValueError, match="ragged"):
        ff.constant([[1.0], [1.0, 2.0]])
    with pytest.raises(TypeError, match="strings"):
        ff.constant("abc")
    with pytest.raises(ValueError, match="matmul"):
        ff.matmul(ff.ones((2, 3)), ff.ones((2, 3)))
