"""tf.nn ops: softmax family, fused cross-entropies, dense, dropout, bias_add, moments, l2_loss."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("shape,axis", [((5,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((0, 3), -1),
                                        ((2, 1), -1)], ids=str)
def test_softmax_and_log_softmax(shape, axis):
    z = random_array(shape, low=-3, high=3)
    np.testing.assert_allclose(ff.nn.softmax(z, axis=axis).numpy(), _softmax(z, axis), rtol=1e-12)
    np.testing.assert_allclose(ff.nn.log_softmax(z, axis=axis).numpy(), np.log(_softmax(z, axis)), rtol=1e-12,
                               atol=1e-14)
    check_gradient(lambda t: ff.nn.softmax(t, axis=axis), [z])
    check_gradient(lambda t: ff.nn.log_softmax(t, axis=axis), [z])


def test_softmax_is_stable_and_remembers_logits():
    z = ff.constant([[1000.0, 0.0, -1000.0]])
    out = ff.nn.softmax(z)
    np.testing.assert_allclose(out.numpy(), [[1.0, 0.0, 0.0]])
    assert out._logits is z
    np.testing.assert_allclose(ff.nn.log_softmax(z).numpy(), [[0.0, -1000.0, -2000.0]])


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3,), (0, 3)], ids=str)
def test_softmax_cross_entropy_with_logits(shape):
    logits = random_array(shape, low=-3, high=3)
    labels = _softmax(random_array(shape, seed=1, low=-2, high=2))
    expected = -(labels * np.log(_softmax(logits))).sum(axis=-1)
    out = ff.nn.softmax_cross_entropy_with_logits(labels, logits)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    check_gradient(lambda y, z: ff.nn.softmax_cross_entropy_with_logits(y, z), [labels, logits])


def test_softmax_cross_entropy_axis_and_python_labels():
    logits = random_array((3, 4))
    labels = np.eye(3)[:, [0, 1, 2, 0]]  # one-hot along axis 0
    expected = -(labels * np.log(_softmax(logits, axis=0))).sum(axis=0)
    np.testing.assert_allclose(ff.nn.softmax_cross_entropy_with_logits(labels, logits, axis=0).numpy(), expected)
    check_gradient(lambda z: ff.nn.softmax_cross_entropy_with_logits(labels, z, axis=0), [logits])
    # integer one-hot labels as Python data are converted to the logits' dtype
    out = ff.nn.softmax_cross_entropy_with_logits([[0, 1]], ff.constant([[0.0, 0.0]]))
    np.testing.assert_allclose(out.numpy(), [np.log(2.0)], rtol=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        ff.nn.softmax_cross_entropy_with_logits([[0.0, 1.0]], [[0.0, 0.0, 0.0]])


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (0, 4), (1, 1)], ids=str)
def test_sparse_softmax_cross_entropy_with_logits(shape):
    logits = random_array(shape, low=-3, high=3)
    labels = np.random.default_rng(0).integers(0, shape[-1], size=shape[:-1])
    logp = np.log(_softmax(logits))
    expected = -np.take_along_axis(logp, labels[..., None], axis=-1)[..., 0]
    np.testing.assert_allclose(ff.nn.sparse_softmax_cross_entropy_with_logits(labels, logits).numpy(), expected,
                               rtol=1e-12)
    check_gradient(lambda z: ff.nn.sparse_softmax_cross_entropy_with_logits(labels, z), [logits])


def test_noted_label_ranges_answer_the_range_check_of_their_views_only():
    from featherflow.ops import nn

    chunk = np.array([0, 2, 1, 2, 0, 1], dtype=np.int64)
    nn.note_label_range(chunk)
    batch = chunk[2:4][:, None].reshape(2)  # a batch of the chunk, as the loss sees it
    assert nn._known_range_fits(batch, 3) and not nn._known_range_fits(batch, 2)
    nn._check_sparse_labels(batch, 3, "op")
    with pytest.raises(ValueError, match=r"label value of 2 which is outside the valid range of \[0, 2\)"):
        nn._check_sparse_labels(batch, 2, "op")  # the noted range does not fit: the batch's own scan and message
    assert not nn._known_range_fits(batch.copy(), 3)  # a copy: no provenance, scanned
    assert not nn._known_range_fits(chunk.view(np.int32), 3)  # a reinterpreting view: other values
    nn.note_label_range(np.array([0.5, 1.0]))  # float labels are not noted
    assert all(entry[0]().dtype.kind in "iu" for entry in nn._LABEL_RANGES if entry[0]() is not None)
    for _ in range(nn._LABEL_RANGE_SLOTS):
        nn.note_label_range(np.array([0, 1]))
    assert not nn._known_range_fits(batch, 3)  # only the last few chunks are kept


def test_sparse_cross_entropy_label_errors():
    with pytest.raises(ValueError, match="outside the valid range of \\[0, 3\\)"):
        ff.nn.sparse_softmax_cross_entropy_with_logits([3], [[0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="labels must be integer class indices"):
        ff.nn.sparse_softmax_cross_entropy_with_logits([0.5], [[0.0, 0.0]])
    with pytest.raises(ValueError, match="labels.shape"):
        ff.nn.sparse_softmax_cross_entropy_with_logits([0, 1], [[0.0, 0.0]])


@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 1, 3), (0, 2)], ids=str)
def test_sigmoid_cross_entropy_with_logits(shape):
    logits = random_array(shape, low=-4, high=4)
    labels = random_array(shape, seed=1, low=0, high=1)
    p = 1 / (1 + np.exp(-logits))
    expected = -(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    out = ff.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)
    check_gradient(lambda y, z: ff.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z), [labels, logits])


def test_sigmoid_cross_entropy_large_logits_finite():
    out = ff.nn.sigmoid_cross_entropy_with_logits(labels=[1.0, 0.0], logits=[-500.0, 500.0])
    np.testing.assert_allclose(out.numpy(), [500.0, 500.0])
    with pytest.raises(ValueError, match="labels"):
        ff.nn.sigmoid_cross_entropy_with_logits(logits=[1.0])


@pytest.mark.parametrize("activation", [None, "linear", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("x_shape", [(4, 3), (2, 5, 3), (3,), (0, 3)], ids=str)
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense(activation, x_shape, use_bias):
    x = random_array(x_shape)
    w = random_array((3, 2), seed=1)
    b = random_array((2,), seed=2)
    z = x @ w + (b if use_bias else 0)
    expected = {None: z, "linear": z, "relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z)),
                "tanh": np.tanh(z)}[activation]
    bias = b if use_bias else None
    out = ff.ops.dense(x, w, bias, activation)
    assert out.shape == x_shape[:-1] + (2,)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    if use_bias:
        check_gradient(lambda xx, ww, bb: ff.ops.dense(xx, ww, bb, activation), [x, w, b])
    else:
        check_gradient(lambda xx, ww: ff.ops.dense(xx, ww, None, activation), [x, w])


def test_dense_errors():
    with pytest.raises(ValueError, match="dense: activation must be one of"):
        ff.ops.dense(ff.ones((2, 3)), ff.ones((3, 2)), None, "softmax")
    with pytest.raises(ValueError, match="dense: expected x of shape \\(..., 3\\)"):
        ff.ops.dense(ff.ones((2, 4)), ff.ones((3, 2)))


def test_dropout_scaling_mask_consistency_and_gradient():
    x = ff.constant(random_array((200, 50), low=0.5, high=1.5))
    with ff.GradientTape() as tape:
        tape.watch(x)
        out = ff.nn.dropout(x, rate=0.3)
    kept = out.numpy() != 0
    np.testing.assert_allclose(out.numpy()[kept], x.numpy()[kept] / 0.7, rtol=1e-12)
    assert abs(kept.mean() - 0.7) < 0.02
    grad = tape.gradient(out, x).numpy()
    np.testing.assert_allclose(grad, kept / 0.7, rtol=1e-12)  # the gradient uses the same mask


def test_dropout_seeded_reproducibility_and_noise_shape():
    x = ff.ones((4, 6))
    ff.random.set_seed(7)
    a = ff.nn.dropout(x, 0.5).numpy()
    ff.random.set_seed(7)
    b = ff.nn.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ff.nn.dropout(x, 0.5, seed=3).numpy(), ff.nn.dropout(x, 0.5, seed=3).numpy())
    shared = ff.nn.dropout(x, 0.5, noise_shape=[4, 1]).numpy()
    assert all(len(set(row)) == 1 for row in shared)  # one decision per row
    np.testing.assert_array_equal(ff.nn.dropout(x, 0.0).numpy(), x.numpy())


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rate_validation(rate):
    with pytest.raises(ValueError, match="dropout: rate must be a float in the range \\[0, 1\\)"):
        ff.nn.dropout(ff.ones((2,)), rate)


def test_dropout_refuses_integer_input():
    with pytest.raises(TypeError, match="dropout"):
        ff.nn.dropout(ff.constant([1, 2]), 0.5)


@pytest.mark.parametrize("shape,data_format", [((4, 3), None), ((2, 5, 3), "NWC"), ((2, 4, 4, 3), "NHWC"),
                                               ((2, 3, 4, 4), "NCHW"), ((0, 3), None)], ids=str)
def test_bias_add(shape, data_format):
    x = random_array(shape)
    b = random_array((3,), seed=1)
    expected = x + (b.reshape(3, 1, 1) if data_format == "NCHW" else b)
    np.testing.assert_allclose(ff.nn.bias_add(x, b, data_format=data_format).numpy(), expected)
    check_gradient(lambda xx, bb: ff.nn.bias_add(xx, bb, data_format=data_format), [x, b])


def test_bias_add_errors():
    with pytest.raises(ValueError, match="bias_add: `bias` must be 1-D with the size of the channel axis"):
        ff.nn.bias_add(ff.ones((2, 3)), ff.ones((2,)))


@pytest.mark.parametrize("shape,axes", [((4, 3), [0]), ((2, 3, 4), [0, 1]), ((5,), [0]), ((2, 3, 4), [2])], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_moments(shape, axes, keepdims):
    x = random_array(shape)
    mean, variance = ff.nn.moments(x, axes=axes, keepdims=keepdims)
    np.testing.assert_allclose(mean.numpy(), x.mean(axis=tuple(axes), keepdims=keepdims), rtol=1e-12)
    np.testing.assert_allclose(variance.numpy(), x.var(axis=tuple(axes), keepdims=keepdims), rtol=1e-12)
    check_gradient(lambda t: list(ff.nn.moments(t, axes=axes, keepdims=keepdims)), [x])


@pytest.mark.parametrize("shape", [(5,), (3, 4), (), (0, 2)], ids=str)
def test_l2_loss(shape):
    x = random_array(shape)
    np.testing.assert_allclose(ff.nn.l2_loss(x).numpy(), (x ** 2).sum() / 2)
    check_gradient(ff.nn.l2_loss, [x])


def test_batch_normalization():
    x = random_array((6, 3))
    mean = random_array((3,), seed=1)
    var = random_array((3,), seed=2, low=0.5, high=2)
    offset = random_array((3,), seed=3)
    scale = random_array((3,), seed=4)
    expected = scale * (x - mean) / np.sqrt(var + 1e-3) + offset
    out = ff.nn.batch_normalization(x, mean, var, offset, scale, 1e-3)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    check_gradient(lambda *ts: ff.nn.batch_normalization(ts[0], ts[1], ts[2], ts[3], ts[4], 1e-3),
                   [x, mean, var, offset, scale])


def test_axis_and_noise_shape_validation():
    with pytest.raises(ValueError, match="softmax: axis 2 is out of range for logits of rank 2"):
        ff.nn.softmax(ff.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="log_softmax: axis -3"):
        ff.nn.log_softmax(ff.ones((2, 3)), axis=-3)
    with pytest.raises(ValueError, match="dropout: noise_shape must have one entry per axis"):
        ff.nn.dropout(ff.ones((2, 3)), 0.5, noise_shape=[2])
    with pytest.raises(ValueError, match="dropout: noise_shape"):
        ff.nn.dropout(ff.ones((2, 3)), 0.5, noise_shape=[2, 2])
    assert ff.nn.dropout(ff.ones((2, 3)), 0.5, noise_shape=[None, 1]).shape == (2, 3)


@pytest.mark.parametrize("shape,noise_shape", [((4, 5), None), ((3, 2, 4), [3, 1, 4]), ((0, 3), None), ((6,), None)],
                         ids=str)
def test_dropout_gradient_check_with_a_fixed_seed(shape, noise_shape):
    # An op seed fixes the mask, so every evaluation of the finite differences sees the same mask.
    check_gradient(lambda t: ff.nn.dropout(t, 0.4, noise_shape=noise_shape, seed=11), [random_array(shape)])
