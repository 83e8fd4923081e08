"""keras.backend math: values against NumPy, tf.keras's special rules, gradients by finite differences."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as tf
from featherflow.keras import backend as K

X = np.arange(-3.0, 3.0).reshape(2, 3).astype("float32")


@pytest.mark.parametrize("name, reference", [
    ("abs", np.abs), ("square", np.square), ("exp", np.exp), ("sin", np.sin), ("cos", np.cos),
    ("sign", np.sign), ("round", np.round),
])
def test_elementwise_match_numpy(name, reference):
    np.testing.assert_allclose(getattr(K, name)(X).numpy(), reference(X), rtol=1e-6)


def test_sqrt_clips_negatives_and_log_pow_clip():
    assert K.sqrt(X).numpy().tolist() == np.sqrt(np.maximum(X, 0)).tolist()
    np.testing.assert_allclose(K.log(np.array([1.0, np.e], "float32")).numpy(), [0.0, 1.0], atol=1e-6)
    assert K.pow(X, 2).numpy().tolist() == (X ** 2).tolist()
    assert K.clip(X, -1, 1).numpy().tolist() == np.clip(X, -1, 1).tolist()
    assert K.clip(X, 1, -5).numpy().tolist() == np.full_like(X, 1).tolist()  # max raised to min
    assert K.clip(X, None, 0).numpy().tolist() == np.minimum(X, 0).tolist()
    assert K.maximum(X, 0).numpy().tolist() == np.maximum(X, 0).tolist()
    assert K.minimum(X, 0).numpy().tolist() == np.minimum(X, 0).tolist()


@pytest.mark.parametrize("name, reference", [
    ("sum", np.sum), ("prod", np.prod), ("mean", np.mean), ("var", np.var), ("std", np.std),
    ("max", np.max), ("min", np.min),
])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (0, True), (-1, True)])
def test_reductions_match_numpy(name, reference, axis, keepdims):
    got = getattr(K, name)(X, axis=axis, keepdims=keepdims).numpy()
    np.testing.assert_allclose(got, reference(X, axis=axis, keepdims=keepdims), rtol=1e-6)


def test_bool_reductions_and_arg_functions():
    flags = X > 0
    assert float(K.mean(flags)) == pytest.approx(np.mean(flags))
    assert float(K.var(flags)) == pytest.approx(np.var(flags))
    assert K.any(X, axis=1).numpy().tolist() == [True, True]
    assert K.all(X, axis=0).numpy().tolist() == np.all(X, axis=0).tolist()
    assert K.argmax(X).numpy().tolist() == [2, 2] and K.argmax(X).dtype == np.int64
    assert K.argmin(X, axis=0).numpy().tolist() == [0, 0, 0]
    assert K.cumsum(X, axis=1).numpy().tolist() == np.cumsum(X, axis=1).tolist()
    assert K.cumprod(X, axis=1).numpy().tolist() == np.cumprod(X, axis=1).tolist()


def test_comparisons_cast_and_switch():
    for name, op in [("equal", np.equal), ("not_equal", np.not_equal), ("greater", np.greater),
                     ("greater_equal", np.greater_equal), ("less", np.less), ("less_equal", np.less_equal)]:
        assert getattr(K, name)(X, 0.0).numpy().tolist() == op(X, 0.0).tolist()
    assert K.cast(X, "int32").dtype == np.int32
    out = K.switch(np.array([True, False]), np.ones((2, 3)), np.zeros((2, 3)))
    assert out.numpy().tolist() == [[1, 1, 1], [0, 0, 0]]
    assert K.switch(K.constant(0.0), lambda: "then", lambda: "else") == "else"
    with pytest.raises(ValueError, match="Rank of `condition`"):
        K.switch(np.ones((2, 2), bool), np.ones(2), np.zeros(2))


def test_shape_manipulation():
    x = np.arange(24.0).reshape(2, 3, 4)
    assert K.reshape(x, (4, 6)).shape == (4, 6)
    assert K.flatten(x).shape == (24,)
    assert K.batch_flatten(x).shape == (2, 12)
    assert K.expand_dims(x).shape == (2, 3, 4, 1)
    assert K.squeeze(np.zeros((2, 1, 3)), 1).shape == (2, 3)
    assert K.permute_dimensions(x, (0, 2, 1)).numpy().tolist() == x.transpose(0, 2, 1).tolist()
    assert K.transpose(x).numpy().tolist() == x.T.tolist()
    assert K.concatenate([x, x]).shape == (2, 3, 8)
    assert K.concatenate([x, x], axis=0).shape == (4, 3, 4)
    assert K.stack([x, x], axis=1).shape == (2, 2, 3, 4)
    assert K.tile(np.array([1.0, 2.0]), 2).numpy().tolist() == [1.0, 2.0, 1.0, 2.0]
    assert K.tile(x, (1, 2, 1)).shape == (2, 6, 4)
    assert K.repeat(np.arange(4.0).reshape(2, 2), 3).numpy().tolist() == \
        np.repeat(np.arange(4.0).reshape(2, 1, 2), 3, axis=1).tolist()
    assert K.repeat_elements(x, 2, axis=1).numpy().tolist() == np.repeat(x, 2, axis=1).tolist()
    assert K.reverse(x, 1).numpy().tolist() == x[:, ::-1].tolist()
    assert K.reverse(x, [0, 2]).numpy().tolist() == x[::-1, :, ::-1].tolist()
    assert K.gather(x, [1, 0]).numpy().tolist() == x[[1, 0]].tolist()
    hot = K.one_hot(np.array([[0, 2]]), 3)
    assert hot.dtype == np.float32 and hot.numpy().tolist() == [[[1, 0, 0], [0, 0, 1]]]
    with pytest.raises(ValueError, match="2-D"):
        K.repeat(x, 2)


@pytest.mark.parametrize("xs, ys", [((2, 3), (3, 4)), ((2, 3, 4), (4, 5)), ((2, 3), (4, 3, 5)),
                                    ((2, 3, 4), (6, 4, 5))])
def test_dot_follows_theanos_rule(xs, ys):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=xs), rng.normal(size=ys)
    expected = np.dot(x, y)  # NumPy's dot is the same rule (last axis of x, second-to-last of y)
    np.testing.assert_allclose(K.dot(x, y).numpy(), expected, rtol=1e-10)
    check_gradient(K.dot, [x, y])


@pytest.mark.parametrize("xs, ys, axes, expected_shape", [
    ((4, 5), (4, 5), None, (4, 1)),
    ((4, 5), (4, 5, 3), None, (4, 3)),
    ((4, 3, 5), (4, 5), None, (4, 3)),
    ((4, 20), (4, 30, 20), (1, 2), (4, 30)),
    ((4, 2, 3, 5), (4, 5, 6), (3, 1), (4, 2, 3, 6)),
    ((4, 5, 2), (4, 3, 5), 1, None),
])
def test_batch_dot_against_einsum(xs, ys, axes, expected_shape):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=xs), rng.normal(size=ys)
    if expected_shape is None:
        with pytest.raises(ValueError, match="x.shape\\[1\\] != y.shape\\[1\\]"):
            K.batch_dot(x, y, axes=axes)
        return
    out = K.batch_dot(x, y, axes=axes).numpy()
    a0, a1 = (axes, axes) if isinstance(axes, int) else (axes or (x.ndim - 1, y.ndim - 1 if y.ndim == 2 else y.ndim - 2))
    letters = "bcdefgh"
    xl = ["a"] + list(letters[:x.ndim - 1])
    yl = ["a"] + list("pqrstu"[:y.ndim - 1])
    yl[a1] = xl[a0]
    out_l = ["a"] + [c for i, c in enumerate(xl) if i not in (0, a0)] + [c for i, c in enumerate(yl) if i not in (0, a1)]
    expected = np.einsum(f"{''.join(xl)},{''.join(yl)}->{''.join(out_l)}", x, y).reshape(expected_shape)
    assert out.shape == expected_shape
    np.testing.assert_allclose(out, expected, rtol=1e-10)
    check_gradient(lambda a, b: K.batch_dot(a, b, axes=axes), [x, y])


def test_batch_dot_refuses_axis_zero_and_rank_one():
    with pytest.raises(ValueError, match="axis 0"):
        K.batch_dot(np.ones((2, 3)), np.ones((2, 3)), axes=0)
    with pytest.raises(ValueError, match="rank < 2"):
        K.batch_dot(np.ones(3), np.ones((3, 3)))


def test_creation_functions():
    assert K.zeros((2, 3), dtype="int32").dtype == np.int32
    assert K.ones(3).numpy().tolist() == [1.0, 1.0, 1.0]
    assert K.eye((2, 3)).shape == (2, 3)
    assert K.zeros_like(X).numpy().sum() == 0 and K.ones_like(X, dtype="int32").dtype == np.int32
    assert K.arange(3).numpy().tolist() == [0, 1, 2] and K.arange(3).dtype == np.int32
    assert K.arange(-3).numpy().tolist() == []
    assert K.arange(2, 8, 2, dtype="float32").numpy().tolist() == [2.0, 4.0, 6.0]


def test_random_functions_are_seeded_and_in_range():
    a = K.random_normal((1000,), mean=2.0, stddev=0.5, seed=3).numpy()
    assert a.dtype == np.float32 and abs(a.mean() - 2.0) < 0.1 and abs(a.std() - 0.5) < 0.05
    assert np.array_equal(a, K.random_normal((1000,), mean=2.0, stddev=0.5, seed=3).numpy())
    u = K.random_uniform((1000,), -1.0, 3.0, seed=1).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0
    t = K.truncated_normal((1000,), stddev=1.0, seed=2).numpy()
    assert np.abs(t).max() <= 2.0
    b = K.random_bernoulli((1000,), p=0.3, seed=4).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.05
    with pytest.warns(UserWarning, match="random_bernoulli"):
        K.random_binomial((2,), p=0.5)
    v = K.random_uniform_variable((2, 2), 0, 1, seed=0)
    assert isinstance(v, tf.Variable) and v.shape == (2, 2)
    assert isinstance(K.random_normal_variable((3,), 0.0, 1.0, seed=0), tf.Variable)


def test_map_fn_and_folds():
    x = np.arange(6.0).reshape(3, 2)
    assert K.map_fn(lambda r: r * 2.0, x).numpy().tolist() == (x * 2).tolist()
    assert K.foldl(lambda acc, r: acc * 10 + r, np.array([1.0, 2.0, 3.0])).numpy() == 123.0
    assert K.foldr(lambda acc, r: acc * 10 + r, np.array([1.0, 2.0, 3.0])).numpy() == 321.0
    assert K.foldl(lambda acc, r: acc + r, np.array([1.0, 2.0], "float32"), initializer=10.0).numpy() == 13.0


@pytest.mark.parametrize("fn", [
    lambda x: K.cumprod(x, axis=1), lambda x: K.sqrt(x * x + 1.0), lambda x: K.std(x, axis=0),
    lambda x: K.repeat_elements(x, 3, 1), lambda x: K.batch_flatten(K.repeat(x, 2)),
    lambda x: K.switch(x > 0, x * x, -x), lambda x: K.map_fn(lambda r: r * r, x),
])
def test_gradients(fn):
    check_gradient(fn, [random_array((3, 4), seed=5)])
