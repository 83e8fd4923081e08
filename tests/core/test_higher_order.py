"""Higher-order gradients: nested tapes, persistent tapes differentiating their gradients, jacobians through
nested tapes, forward mode. Checked against closed forms and finite differences of gradients (float64)."""

import warnings

import numpy as np
import pytest
from gradcheck import check_gradient, check_second_order, check_variable_gradients, random_array

import featherflow as ff
from featherflow import keras


def test_third_derivative_of_a_power():
    x = ff.Variable(2.0, dtype="float64")
    with ff.GradientTape() as t3:
        with ff.GradientTape() as t2:
            with ff.GradientTape() as t1:
                y = x ** 4
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert (float(d1), float(d2), float(d3)) == (32.0, 48.0, 48.0)  # 4x^3, 12x^2, 24x


def test_hessian_of_a_quadratic_is_symmetric_part_of_a():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    b = rng.standard_normal(4)
    x = ff.constant(rng.standard_normal(4))
    with ff.GradientTape() as outer:
        outer.watch(x)
        with ff.GradientTape() as inner:
            inner.watch(x)
            f = 0.5 * ff.reduce_sum(x * ff.linalg.matvec(ff.constant(a), x)) + ff.reduce_sum(b * x)
        grad = inner.gradient(f, x)
    hessian = outer.jacobian(grad, x)
    np.testing.assert_allclose(grad.numpy(), 0.5 * (a + a.T) @ x.numpy() + b, rtol=1e-12)
    np.testing.assert_allclose(hessian.numpy(), 0.5 * (a + a.T), rtol=1e-12)


def test_hessian_vector_product_matches_closed_form_and_finite_differences():
    x0 = random_array((5,), seed=3)
    v = random_array((5,), seed=4)

    def f(x):
        return ff.reduce_sum(ff.sin(x) * ff.reduce_sum(x * x))

    x = ff.constant(x0)
    with ff.GradientTape() as outer:
        outer.watch(x)
        with ff.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        g = inner.gradient(y, x)
        gv = ff.reduce_sum(g * v)
    hvp = outer.gradient(gv, x).numpy()
    s, q = np.sin(x0).sum(), (x0 ** 2).sum()
    # f = S(x) Q(x): H = diag(-sin x) Q + 2 (cos x x^T + x cos x^T) + 2 S I
    hessian = np.diag(-np.sin(x0)) * q + 2 * (np.outer(np.cos(x0), x0) + np.outer(x0, np.cos(x0))) + 2 * s * np.eye(5)
    np.testing.assert_allclose(hvp, hessian @ v, rtol=1e-10)


def test_persistent_tape_differentiates_its_own_gradient():
    x = ff.constant(1.5, "float64")
    with ff.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ff.exp(x) * x
        dy = tape.gradient(y, x)  # recorded by the same, still recording, persistent tape
    d2 = tape.gradient(dy, x)
    assert float(dy) == pytest.approx(np.exp(1.5) * 2.5)
    assert float(d2) == pytest.approx(np.exp(1.5) * 3.5)


def test_jacobian_and_batch_jacobian_through_nested_tapes():
    x0 = random_array((3, 2), seed=5)
    x = ff.constant(x0)
    with ff.GradientTape(persistent=True) as outer:
        outer.watch(x)
        with ff.GradientTape() as inner:
            inner.watch(x)
            y = ff.tanh(x) * x  # rows independent
        jac = inner.batch_jacobian(y, x)  # (3, 2, 2), diagonal per row
        total = ff.reduce_sum(jac)
    d = 1 - np.tanh(x0) ** 2
    np.testing.assert_allclose(np.einsum("bii->bi", jac.numpy()), d * x0 + np.tanh(x0), rtol=1e-12)
    assert np.count_nonzero(jac.numpy()[:, 0, 1]) == 0
    # d/dx of the diagonal: d/dx (tanh' x + tanh) = tanh'' x + 2 tanh'
    second = -2 * np.tanh(x0) * d * x0 + 2 * d
    np.testing.assert_allclose(outer.gradient(total, x).numpy(), second, rtol=1e-10)
    full = outer.jacobian(jac, x)
    assert full.shape == (3, 2, 2, 3, 2)


def test_unconnected_gradient_under_an_outer_tape():
    x, z = ff.constant(1.0), ff.constant(2.0)
    with ff.GradientTape() as outer:
        outer.watch([x, z])
        with ff.GradientTape() as inner:
            inner.watch(x)
            y = x * x
        g = inner.gradient(y, [x, z], unconnected_gradients="zero")
    assert float(g[1]) == 0.0
    assert outer.gradient(g[0], z) is None


def _dense_model(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                             keras.layers.Dense(4, activation="sigmoid"), keras.layers.Dense(1)])


def test_wgan_gp_gradient_penalty_through_dense_layers_matches_finite_differences():
    ff.set_floatx("float64")  # the model's weights in float64, for finite differences
    try:
        critic = _dense_model(0)
        x_hat = ff.constant(random_array((5, 3), seed=6))

        def penalty():
            with ff.GradientTape() as inner:
                inner.watch(x_hat)
                scores = critic(x_hat)
            g = inner.gradient(scores, x_hat)
            norms = ff.sqrt(ff.reduce_sum(g * g, axis=1) + 1e-12)
            return ff.reduce_mean((norms - 1.0) ** 2)

        with ff.GradientTape() as outer:
            gp = penalty()
        grads = outer.gradient(gp, critic.trainable_variables)
        # the input gradient does not depend on the last layer's bias: no path, None as in TensorFlow
        assert grads[-1] is None and all(g is not None for g in grads[:-1])
        check_variable_gradients(penalty, critic.trainable_variables, grads)
    finally:
        ff.set_floatx("float32")


def test_maml_inner_step_meta_gradient_matches_finite_differences():
    rng = np.random.default_rng(8)
    w0 = rng.standard_normal((3, 1))
    x_train, y_train = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    x_val, y_val = rng.standard_normal((4, 3)), rng.standard_normal((4, 1))
    alpha = 0.1

    def loss(w, x, y):
        return ff.reduce_mean(ff.square(ff.tanh(ff.matmul(x, w)) - y))

    def meta_loss(w_array):
        w = ff.constant(w_array)
        with ff.GradientTape() as inner:
            inner.watch(w)
            train = loss(w, x_train, y_train)
        adapted = w - alpha * inner.gradient(train, w)
        return loss(adapted, x_val, y_val)

    w = ff.Variable(w0)
    with ff.GradientTape() as outer:
        with ff.GradientTape() as inner:
            train = loss(w, x_train, y_train)
        adapted = w - alpha * inner.gradient(train, w)
        meta = loss(adapted, x_val, y_val)
    meta_grad = outer.gradient(meta, w).numpy()
    eps = 1e-6
    numeric = np.zeros_like(w0)
    for i in range(3):
        e = np.zeros_like(w0)
        e[i] = eps
        numeric[i] = (float(meta_loss(w0 + e)) - float(meta_loss(w0 - e))) / (2 * eps)
    np.testing.assert_allclose(meta_grad, numeric, rtol=1e-6, atol=1e-10)


def test_forward_accumulator_jvp_matches_jacobian_vector_product():
    x0 = random_array((3,), seed=9)
    v = random_array((3,), seed=10)
    x = ff.constant(x0)
    with ff.autodiff.ForwardAccumulator(x, ff.constant(v)) as acc:
        y = ff.exp(x) * ff.reduce_sum(x * x)
        unrelated = ff.constant(2.0, "float64") * 3.0
    with ff.GradientTape() as tape:
        tape.watch(x)
        y2 = ff.exp(x) * ff.reduce_sum(x * x)
    jac = tape.jacobian(y2, x).numpy()
    np.testing.assert_allclose(acc.jvp(y).numpy(), jac @ v, rtol=1e-12)
    assert acc.jvp(unrelated) is None
    assert float(acc.jvp(unrelated, unconnected_gradients="zero")) == 0.0


def test_op_without_differentiable_rule_says_so():
    x = ff.constant(random_array((1, 3, 4, 4, 1), seed=11))
    k = ff.constant(random_array((2, 2, 2, 1, 1), seed=12))
    with ff.GradientTape() as outer:
        outer.watch(k)
        with ff.GradientTape() as inner:
            inner.watch(k)
            y = ff.nn.conv3d(x, k, [1, 1, 1, 1, 1], "VALID")  # no second-order rule
        with pytest.raises(NotImplementedError, match="cannot be differentiated again"):
            inner.gradient(y, k)


def test_first_order_unaffected_by_an_unrelated_outer_tape():
    # an outer tape that watches nothing of the inner computation: the fast raw rules still run
    a, x = ff.constant(1.0), ff.constant(random_array((1, 4, 4, 1), seed=13))
    k = ff.constant(random_array((2, 2, 1, 1), seed=14))
    with ff.GradientTape() as outer:
        outer.watch(a)
        with ff.GradientTape() as inner:
            inner.watch(k)
            y = ff.nn.conv2d(x, k, 1, "VALID")
        g = inner.gradient(y, k)  # conv2d has no differentiable rule, but nothing outer sees depends on it
    assert g.shape == (2, 2, 1, 1)


OPS = {
    "arithmetic": (lambda a, b: a * b * a / (b + 2.0) - ff.pow(b, a), [random_array((3, 4)),
                                                                       random_array((4,), low=0.5, high=2)]),
    "elementwise": (lambda a: ff.exp(a) * ff.math.log1p(a * a) + ff.sqrt(a * a + 1) + ff.abs(a) ** 3
                    + ff.math.rsqrt(a * a + 1) + ff.math.reciprocal(a + 3) + ff.math.expm1(a) ** 2,
                    [random_array((3, 4))]),
    "trig": (lambda a: ff.sin(a) * ff.cos(a) + ff.math.tan(a) ** 2 + ff.math.atan(a) ** 2 + ff.math.erf(a) ** 2
             + ff.math.erfc(a) ** 2 + ff.math.sinh(a) * ff.math.cosh(a), [random_array((3, 4))]),
    "activations": (lambda a: ff.nn.relu(a) ** 2 + ff.tanh(a) * ff.sigmoid(a) + ff.nn.elu(a) ** 2
                    + ff.nn.selu(a) * a + ff.nn.gelu(a) ** 2 + ff.nn.gelu(a, approximate=True) ** 2
                    + ff.nn.softplus(a) * a + ff.nn.silu(a) ** 2 + ff.nn.softsign(a) ** 2 + ff.nn.leaky_relu(a) ** 2
                    + ff.nn.relu6(a * 4) ** 2 + ff.math.log_sigmoid(a) ** 2, [random_array((3, 4))]),
    "softmax": (lambda a: ff.nn.softmax(a) * a + ff.nn.log_softmax(a, axis=0) ** 2, [random_array((3, 4))]),
    "losses": (lambda a: ff.nn.softmax_cross_entropy_with_logits(ff.nn.softmax(a * 0.5), a)
               + ff.nn.sparse_softmax_cross_entropy_with_logits([1, 0, 3], a) ** 2
               + ff.reduce_sum(ff.nn.sigmoid_cross_entropy_with_logits(ff.sigmoid(a), a), axis=1)
               + ff.nn.l2_loss(a), [random_array((3, 4))]),
    "reductions": (lambda a: ff.reduce_sum(a * a, axis=1) * ff.reduce_mean(a) + ff.reduce_prod(a, axis=1)
                   + ff.reduce_logsumexp(a, axis=1) + ff.math.reduce_variance(a, axis=1)
                   + ff.math.reduce_std(a, axis=1) + ff.math.reduce_euclidean_norm(a, axis=1)
                   + ff.reduce_max(a * a, axis=1) * ff.reduce_min(a, axis=1), [random_array((3, 4))]),
    "linalg": (lambda a, b: ff.matmul(a, a, transpose_a=True) ** 2 * b + ff.tensordot(a, a, [[0], [0]]) * b
               + ff.einsum("ij,ik->jk", a * a, a) + ff.matmul(a, a, transpose_b=True)[:1, :1] ** 2 * b,
               [random_array((3, 4)), random_array((4,), seed=1)]),
    "shapes": (lambda a: ff.concat([ff.transpose(a), ff.reverse(a, [0])[:2, :3] * ff.transpose(a)[:2, :1]], axis=0) ** 2
               + ff.reduce_sum(ff.tile(ff.expand_dims(a * a, 0), [2, 1, 1]), axis=0)[:1, :1], [random_array((3, 4))]),
    "pieces": (lambda a: ff.stack(ff.unstack(a * a, axis=1)[:2], axis=0) * ff.transpose(ff.split(a, 2, axis=1)[1][:, :1])
               + ff.squeeze(ff.broadcast_to(ff.reshape(a[0, :2], (2, 1)), (2, 3))) * a[0, 0],
               [random_array((3, 4))]),
    "indexing": (lambda a: ff.gather(a * a, [2, 0, 2, 1], axis=1) * a[0, 0] + ff.gather_nd(a * a, [[0, 1], [2, 3]])[0]
                 + ff.where(a > 0, a * a, a) * a[1, 1] + ff.pad(a * a, [[1, 1], [0, 2]], "SYMMETRIC")[:3, :4] * a,
                 [random_array((3, 4))]),
    "sort_repeat_cumsum": (lambda a: ff.sort(a * a, axis=1) * a + ff.repeat(a * a, [1, 2, 0], axis=0)[:3] * a
                           + ff.cumsum(a * a, axis=1, exclusive=True) * a, [random_array((3, 4))]),
    "dense": (lambda a, w, b: ff.ops.dense(a, w, b, "tanh") ** 2 + ff.ops.dense(a, w, None, "relu") ** 2,
              [random_array((3, 4)), random_array((4, 2), seed=2), random_array((2,), seed=3)]),
    "clip_and_max": (lambda a, b: ff.clip_by_value(a * a, 0.1, 0.5) * a + ff.maximum(a, b) ** 2
                     + ff.minimum(a * b, b) ** 2 + ff.math.squared_difference(a, b) * a
                     + ff.math.divide_no_nan(a, b) ** 2, [random_array((3, 4)), random_array((4,), seed=4)]),
    "new_ops": (lambda a: ff.math.lgamma(a * a + 1) + ff.math.asin(a * 0.5) ** 2 + ff.math.xlogy(a, a * a + 1)
                + ff.math.atan2(a, a * a + 1) + ff.math.cumprod(a, axis=1) ** 2
                + ff.math.cumulative_logsumexp(a, axis=1) ** 2 + ff.math.segment_max(a * a, [0, 0, 1])[:1] * a
                + ff.tensor_scatter_nd_update(a * a, [[0], [2]], a[:2] * 2) ** 2, [random_array((3, 4))]),
    "complex_abs_and_cast": (lambda a, b: ff.abs(ff.complex(a, b)) ** 2 + ff.abs(ff.complex(a * b, a)) * a
                             + ff.abs(ff.signal.fft(ff.cast(a, "complex128"))) * b, [random_array((3, 4)),
                                                                                      random_array((3, 4), seed=5)]),
    "reverse_sequence": (lambda a: ff.reverse_sequence(a * a, [2, 4, 1], seq_axis=1, batch_axis=0) * a
                         + ff.reverse_sequence(ff.sin(a), [3, 0, 1, 2], seq_axis=0, batch_axis=1) ** 2,
                         [random_array((3, 4))]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_second_order_matches_finite_differences_of_gradients(name):
    fn, inputs = OPS[name]
    check_second_order(fn, inputs)


def test_first_gradient_helper_is_itself_checked():
    # check_second_order's finite differences run the inner gradient on the first-order path
    check_gradient(lambda a: ff.reduce_sum(a * a * a), [random_array((3,))])


def test_gradient_of_a_real_to_complex_cast_is_the_real_part_without_a_warning():
    x = ff.constant([1.0, 2.0, 4.0], "float64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's ComplexWarning came from casting the complex gradient back
        with ff.GradientTape() as tape:
            tape.watch(x)
            y = ff.reduce_sum(ff.abs(ff.signal.fft(ff.cast(x, "complex128"))) ** 2)  # = n * sum(x^2) (Parseval)
        grad = tape.gradient(y, x)
    assert grad.dtype == ff.float64
    np.testing.assert_allclose(grad.numpy(), 2 * 3 * x.numpy(), rtol=1e-12)


@pytest.mark.parametrize("activation", [ff.nn.relu, ff.nn.relu6, ff.nn.leaky_relu, ff.abs, ff.keras.activations.hard_sigmoid])
def test_hessian_of_a_piecewise_linear_network_is_zeros_not_none(activation):
    # TensorFlow: the activation's gradient op reads its input, so the Hessian is connected (zeros)
    w1, w2 = random_array((3, 4), seed=30), random_array((4, 1), seed=31)
    x = ff.constant([[0.3, -0.2, 0.5]], "float64")
    with ff.GradientTape() as outer:
        outer.watch(x)
        with ff.GradientTape() as inner:
            inner.watch(x)
            y = ff.reduce_sum(ff.matmul(activation(ff.matmul(x, w1) * 4.0), w2))
        grad = inner.gradient(y, x)
    hessian = outer.jacobian(grad, x)
    assert hessian is not None and hessian.shape == (1, 3, 1, 3)
    np.testing.assert_array_equal(hessian.numpy(), np.zeros((1, 3, 1, 3)))


def test_hessian_through_a_keras_relu_dense_layer_is_zeros():
    layer = keras.layers.Dense(3, activation="relu", dtype="float64")
    x = ff.constant(random_array((2, 4), seed=32))
    with ff.GradientTape() as outer:
        outer.watch(x)
        with ff.GradientTape() as inner:
            inner.watch(x)
            y = ff.reduce_sum(layer(x))
        grad = inner.gradient(y, x)
        penalty = ff.reduce_sum(grad * grad)
    hessian = outer.gradient(penalty, x)
    assert hessian is not None
    np.testing.assert_array_equal(hessian.numpy(), np.zeros((2, 4)))
