"""keras.backend neural-network functions against direct NumPy references and finite differences."""

import os

import numpy as np
import pytest
from conv_reference import reference_conv2d, reference_conv2d_transpose, reference_pool2d
from gradcheck import check_gradient, random_array

import featherflow as tf
from featherflow.keras import backend as K

X = np.array([-3.0, -0.5, 0.0, 0.5, 2.0, 7.0])


@pytest.mark.parametrize("kwargs, expected", [
    ({}, np.maximum(X, 0)),
    ({"max_value": 6.0}, np.clip(X, 0, 6)),
    ({"alpha": 0.1}, np.where(X > 0, X, 0.1 * X)),
    ({"threshold": 1.0}, np.where(X > 1.0, X, 0.0)),
    ({"alpha": 0.1, "threshold": 1.0, "max_value": 5.0},
     np.where(X > 1.0, np.minimum(X, 5.0), 0.1 * (X - 1.0))),
])
def test_relu_variants(kwargs, expected):
    np.testing.assert_allclose(K.relu(X, **kwargs).numpy(), expected, rtol=1e-12)


def test_activations():
    np.testing.assert_allclose(K.elu(X, alpha=0.5).numpy(), np.where(X > 0, X, 0.5 * (np.exp(X) - 1)), rtol=1e-12)
    np.testing.assert_allclose(K.hard_sigmoid(X).numpy(), np.clip(0.2 * X + 0.5, 0, 1), rtol=1e-12)
    np.testing.assert_allclose(K.sigmoid(X).numpy(), 1 / (1 + np.exp(-X)), rtol=1e-12)
    np.testing.assert_allclose(K.softplus(X).numpy(), np.log1p(np.exp(X)), rtol=1e-12)
    np.testing.assert_allclose(K.softsign(X).numpy(), X / (1 + np.abs(X)), rtol=1e-12)
    np.testing.assert_allclose(K.tanh(X).numpy(), np.tanh(X), rtol=1e-12)
    m = X.reshape(2, 3)
    e = np.exp(m - m.max())
    np.testing.assert_allclose(K.softmax(m, axis=(0, 1)).numpy(), e / e.sum(), rtol=1e-12)
    np.testing.assert_allclose(K.softmax(m).numpy(), np.exp(m) / np.exp(m).sum(-1, keepdims=True), rtol=1e-12)
    with pytest.raises(ValueError, match="1D"):
        K.softmax(X)
    np.testing.assert_allclose(K.l2_normalize(m, axis=1).numpy(), m / np.linalg.norm(m, axis=1, keepdims=True))
    assert K.in_top_k(np.array([[0.1, 0.9, 0.5]]), np.array([2]), 2).numpy().tolist() == [True]


def test_dropout_keeps_expectation():
    out = K.dropout(np.ones((10000,)), 0.25, seed=1).numpy()
    assert set(np.unique(out)) <= {0.0, 1 / 0.75}
    assert abs(out.mean() - 1.0) < 0.05


def test_crossentropies_match_the_formulas():
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    p = np.array([[0.8, 0.3], [1.0, 0.6]])
    eps = 1e-7
    pc = np.clip(p, eps, 1 - eps)
    bce = -(t * np.log(pc + eps) + (1 - t) * np.log(1 - pc + eps))
    np.testing.assert_allclose(K.binary_crossentropy(t, p).numpy(), bce, rtol=1e-6)
    logits = np.array([[2.0, -1.0], [0.5, 3.0]])
    sig = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(K.binary_crossentropy(t, logits, from_logits=True).numpy(),
                               -(t * np.log(sig) + (1 - t) * np.log(1 - sig)), rtol=1e-6)
    p_t = t * pc + (1 - t) * (1 - pc)
    focal = (1 - p_t) ** 2.0 * bce * (t * 0.25 + (1 - t) * 0.75)
    np.testing.assert_allclose(K.binary_focal_crossentropy(t, pc, apply_class_balancing=True).numpy(), focal,
                               rtol=1e-6)
    probs = p / p.sum(-1, keepdims=True)
    np.testing.assert_allclose(K.categorical_crossentropy(t, p).numpy(), -(t * np.log(probs)).sum(-1), rtol=1e-6)
    np.testing.assert_allclose(K.sparse_categorical_crossentropy(np.array([0, 1]), p).numpy(),
                               -np.log(np.clip(p, eps, 1 - eps)[[0, 1], [0, 1]]) + np.log(
                                   np.clip(p, eps, 1 - eps).sum(-1)), rtol=1e-6)
    cfocal = (0.25 * (1 - probs) ** 2 * (-t * np.log(probs))).sum(-1)
    np.testing.assert_allclose(K.categorical_focal_crossentropy(t, p).numpy(), cfocal, rtol=1e-6)


def test_bias_add_and_batch_normalization():
    x = random_array((2, 3, 4, 5))
    b = random_array((5,), seed=1)
    np.testing.assert_allclose(K.bias_add(x, b).numpy(), x + b)
    bc = random_array((3,), seed=2)
    np.testing.assert_allclose(K.bias_add(x, bc, data_format="channels_first").numpy(), x + bc[:, None, None])
    full = random_array((3, 4, 5), seed=3)
    np.testing.assert_allclose(K.bias_add(x, full).numpy(), x + full)
    with pytest.raises(ValueError, match="Unexpected bias dimensions"):
        K.bias_add(x, np.ones((4, 5)))
    mean, var, beta, gamma = (random_array((5,), seed=s, low=0.5) for s in range(4))
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(K.batch_normalization(x, mean, var, beta, gamma).numpy(), expected, rtol=1e-10)
    mean3 = random_array((3,), seed=7, low=0.5)
    expected = (x - mean3[:, None, None]) / np.sqrt(mean3[:, None, None] + 1e-3)
    np.testing.assert_allclose(K.batch_normalization(x, mean3, mean3, None, None, axis=1).numpy(), expected,
                               rtol=1e-10)
    normed, m, v = K.normalize_batch_in_training(x, None, None, [0, 1, 2])
    np.testing.assert_allclose(m.numpy(), x.mean(axis=(0, 1, 2)), rtol=1e-10)
    np.testing.assert_allclose(v.numpy(), x.var(axis=(0, 1, 2)), rtol=1e-10)
    np.testing.assert_allclose(normed.numpy(), (x - x.mean((0, 1, 2))) / np.sqrt(x.var((0, 1, 2)) + 1e-3), rtol=1e-8)


def test_padding_functions():
    x = np.ones((1, 2, 3))
    assert K.temporal_padding(x, (1, 2)).shape == (1, 5, 3)
    img = np.ones((1, 2, 2, 1))
    padded = K.spatial_2d_padding(img, ((1, 0), (0, 2))).numpy()
    assert padded.shape == (1, 3, 4, 1) and padded[0, 0].sum() == 0 and padded[0, 1:, 2:].sum() == 0
    assert K.spatial_2d_padding(img, data_format="channels_first").shape == (1, 2, 4, 3)
    assert K.spatial_3d_padding(np.ones((1, 2, 2, 2, 1))).shape == (1, 4, 4, 4, 1)


def test_conv_and_pool_against_loops():
    x = random_array((2, 6, 7, 3))
    w = random_array((3, 2, 3, 4), seed=1)
    np.testing.assert_allclose(K.conv2d(x, w, strides=(2, 1), padding="same").numpy(),
                               reference_conv2d(x, w, (2, 1), "SAME"), rtol=1e-10)
    np.testing.assert_allclose(
        K.conv2d(x.transpose(0, 3, 1, 2), w, data_format="channels_first").numpy(),
        reference_conv2d(x, w).transpose(0, 3, 1, 2), rtol=1e-10)
    np.testing.assert_allclose(K.pool2d(x, (2, 2), (2, 2)).numpy(), reference_pool2d(x, "max", (2, 2), (2, 2), "VALID"))
    np.testing.assert_allclose(K.pool2d(x, (3, 3), (1, 1), padding="same", pool_mode="avg").numpy(),
                               reference_pool2d(x, "avg", (3, 3), (1, 1), "SAME"), rtol=1e-10)
    with pytest.raises(ValueError, match="pooling mode"):
        K.pool2d(x, (2, 2), pool_mode="min")
    dw = random_array((3, 3, 3, 2), seed=2)
    pw = random_array((1, 1, 6, 4), seed=3)
    depthwise = np.concatenate([reference_conv2d(x[..., c:c + 1], dw[:, :, c:c + 1, :]) for c in range(3)], -1)
    np.testing.assert_allclose(K.depthwise_conv2d(x, dw).numpy(), depthwise, rtol=1e-10)
    np.testing.assert_allclose(K.separable_conv2d(x, dw, pw).numpy(), reference_conv2d(depthwise, pw), rtol=1e-10)
    wt = random_array((2, 2, 5, 4), seed=4)  # (kh, kw, out, in): 4 channels back to 5
    xt = random_array((2, 3, 3, 4), seed=5)
    np.testing.assert_allclose(K.conv2d_transpose(xt, wt, (None, 6, 6, 5), strides=(2, 2)).numpy(),
                               reference_conv2d_transpose(xt, wt, (6, 6), (2, 2), "VALID"), rtol=1e-10)


def test_conv1d_causal_is_a_left_padded_valid_conv():
    x = random_array((2, 7, 3))
    w = random_array((3, 3, 2), seed=1)
    padded = np.pad(x, ((0, 0), (4, 0), (0, 0)))  # dilation 2 * (3 - 1)
    expected = reference_conv2d(padded[:, None], w[None], (1, 1), "VALID", (1, 2))[:, 0]
    np.testing.assert_allclose(K.conv1d(x, w, padding="causal", dilation_rate=2).numpy(), expected, rtol=1e-10)
    check_gradient(lambda a, b: K.conv1d(a, b, padding="causal"), [x, w])


def _naive_local_conv2d(x, kernel, ks, strides, out_shape):
    n, _, _, c = x.shape
    out = np.zeros((n,) + tuple(out_shape) + (kernel.shape[-1],))
    for i in range(out_shape[0]):
        for j in range(out_shape[1]):
            patch = x[:, i * strides[0]:i * strides[0] + ks[0], j * strides[1]:j * strides[1] + ks[1], :]
            out[:, i, j] = patch.reshape(n, -1) @ kernel[i * out_shape[1] + j]
    return out


def test_local_convolutions():
    x = random_array((2, 5, 6, 3))
    kernel = random_array((2 * 3, 2 * 2 * 3, 4), seed=1)
    out = K.local_conv2d(x, kernel, (2, 2), (2, 2), (2, 3))
    np.testing.assert_allclose(out.numpy(), _naive_local_conv2d(x, kernel, (2, 2), (2, 2), (2, 3)), rtol=1e-10)
    check_gradient(lambda a, b: K.local_conv2d(a, b, (2, 2), (2, 2), (2, 3)), [x, kernel])
    x1 = random_array((2, 7, 3), seed=2)
    k1 = random_array((3, 3 * 3, 2), seed=3)  # output length (7 - 3) // 2 + 1 = 3
    expected = np.stack([x1[:, 2 * t:2 * t + 3].reshape(2, -1) @ k1[t] for t in range(3)], axis=1)
    np.testing.assert_allclose(K.local_conv1d(x1, k1, 3, 2).numpy(), expected, rtol=1e-10)
    first = K.local_conv2d(x.transpose(0, 3, 1, 2), kernel, (2, 2), (2, 2), (2, 3), data_format="channels_first")
    assert first.shape == (2, 4, 2, 3)


def test_resize_functions():
    x = np.arange(8.0).reshape(1, 2, 2, 2)
    near = K.resize_images(x, 2, 3, "channels_last").numpy()
    np.testing.assert_array_equal(near, np.repeat(np.repeat(x, 2, 1), 3, 2))
    assert K.resize_images(x, 2, 2, "channels_last", interpolation="bilinear").shape == (1, 4, 4, 2)
    with pytest.raises(ValueError, match="interpolation"):
        K.resize_images(x, 2, 2, "channels_last", interpolation="lanczos7")
    vol = np.arange(8.0).reshape(1, 2, 2, 2, 1)
    np.testing.assert_array_equal(K.resize_volumes(vol, 2, 1, 3, "channels_last").numpy(),
                                  np.repeat(np.repeat(vol, 2, 1), 3, 3))


def _manual_rnn(x, w, mask=None, backwards=False, zero_output=False):
    h = np.zeros((x.shape[0], w.shape[1]))
    outs, prev = [], np.zeros_like(h)
    order = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    for t in order:
        new = np.tanh(x[:, t] @ w + h)
        out = new
        if mask is not None:
            keep = mask[:, t:t + 1]
            out = np.where(keep, new, 0.0 if zero_output else prev)
            new = np.where(keep, new, h)
        outs.append(out)
        prev, h = out, new
    return prev, np.stack(outs, 1), h


@pytest.mark.parametrize("backwards, zero_output", [(False, False), (True, False), (False, True)])
def test_rnn_loop_with_mask(backwards, zero_output):
    x = random_array((3, 5, 2))
    w = random_array((2, 4), seed=1)
    mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 0, 0]], bool)

    def step(inputs, states):
        new = tf.tanh(tf.matmul(inputs, tf.constant(w)) + states[0])
        return new, [new]

    last, outs, states = K.rnn(step, x, [np.zeros((3, 4))], go_backwards=backwards, mask=mask,
                               zero_output_for_mask=zero_output)
    e_last, e_outs, e_state = _manual_rnn(x, w, mask, backwards, zero_output)
    np.testing.assert_allclose(last.numpy(), e_last, rtol=1e-10)
    np.testing.assert_allclose(outs.numpy(), e_outs, rtol=1e-10)
    np.testing.assert_allclose(states[0].numpy(), e_state, rtol=1e-10)
    _, only_last, _ = K.rnn(step, x, [np.zeros((3, 4))], mask=mask, return_all_outputs=False)
    assert only_last.shape == (3, 1, 4)

    def run(a):
        return K.rnn(step, a, [tf.zeros((3, 4), dtype="float64")], mask=mask, go_backwards=backwards)[1]

    check_gradient(run, [x])


def test_rnn_time_major_and_constants():
    x = random_array((4, 2, 3))  # (time, batch, features)

    def step(inputs, states):
        return inputs + states[0] + states[1], [inputs + states[0]]

    last, outs, _ = K.rnn(step, x, [np.zeros((2, 3))], constants=[np.ones((2, 3))], time_major=True)
    assert outs.shape == (4, 2, 3)
    np.testing.assert_allclose(last.numpy(), x.sum(0) + 1.0, rtol=1e-10)
    with pytest.raises(ValueError, match="rank >= 3"):
        K.rnn(step, np.ones((2, 3)), [np.zeros((2, 3))])


@pytest.mark.parametrize("fn", [
    lambda x: K.relu(x, alpha=0.2, max_value=0.5), lambda x: K.elu(x, 0.3), lambda x: K.hard_sigmoid(x * 3),
    lambda x: K.softmax(x, axis=(0, 1)), lambda x: K.binary_crossentropy(tf.constant(np.full((3, 4), 0.3)),
                                                                         tf.sigmoid(x)),
])
def test_gradients(fn):
    check_gradient(fn, [random_array((3, 4), seed=9)])


def test_conv3d_and_pool3d_against_loops():
    x = random_array((1, 4, 5, 3, 2))
    w = random_array((2, 3, 2, 2, 3), seed=1)
    out = K.conv3d(x, w).numpy()
    expected = np.zeros((1, 3, 3, 2, 3))
    for d in range(3):
        for r in range(3):
            for c in range(2):
                patch = x[0, d:d + 2, r:r + 3, c:c + 2, :]
                expected[0, d, r, c] = np.tensordot(patch, w, axes=([0, 1, 2, 3], [0, 1, 2, 3]))
    np.testing.assert_allclose(out, expected, rtol=1e-10)
    pooled = K.pool3d(x, (2, 2, 1), (2, 2, 1)).numpy()
    np.testing.assert_allclose(pooled[0, 1, 1, 2], x[0, 2:4, 2:4, 2].max(axis=(0, 1)))
    averaged = K.pool3d(x, (2, 2, 3), (2, 2, 3), pool_mode="avg").numpy()
    np.testing.assert_allclose(averaged[0, 0, 0, 0], x[0, :2, :2, :3].mean(axis=(0, 1, 2)))
    first = K.conv3d(x.transpose(0, 4, 1, 2, 3), w, data_format="channels_first").numpy()
    np.testing.assert_allclose(first, expected.transpose(0, 4, 1, 2, 3), rtol=1e-10)


FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def test_ctc_against_tf_keras():
    ref = np.load(os.path.join(FIXTURES, "ctc_tf.npz"))
    y_pred = tf.Variable(ref["y_pred"])
    with tf.GradientTape() as tape:
        cost = K.ctc_batch_cost(ref["labels"], y_pred, ref["input_length"], ref["label_length"])
        weighted = tf.reduce_sum(cost * tf.constant([[1.0], [2.0], [0.5], [1.5]]))
    np.testing.assert_allclose(cost.numpy(), ref["cost"], rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(weighted, y_pred).numpy(), ref["grad"], rtol=1e-4, atol=1e-5)
    decoded, log_prob = K.ctc_decode(ref["y_pred"], ref["input_length"][:, 0])
    np.testing.assert_array_equal(decoded[0].numpy(), ref["greedy"])
    np.testing.assert_allclose(log_prob.numpy(), ref["greedy_log_prob"], rtol=1e-5)
    beams, beam_log_prob = K.ctc_decode(ref["y_pred"], ref["input_length"][:, 0], greedy=False, beam_width=6,
                                        top_paths=3)
    np.testing.assert_array_equal(np.stack([b.numpy() for b in beams]), ref["beams"])
    # a narrow beam prunes a few intermediate prefixes differently from TensorFlow's: the same paths, their
    # probabilities within 1%; with a beam wide enough to keep every prefix, the exact sums
    np.testing.assert_allclose(beam_log_prob.numpy(), ref["beam_log_prob"], rtol=1e-2)
    wide, wide_log_prob = K.ctc_decode(ref["y_pred"], ref["input_length"][:, 0], greedy=False, beam_width=100,
                                       top_paths=3)
    np.testing.assert_array_equal(np.stack([b.numpy() for b in wide]), ref["wide"])
    np.testing.assert_allclose(wide_log_prob.numpy(), ref["wide_log_prob"], rtol=1e-5)


def test_ctc_label_dense_to_sparse():
    # TensorFlow 2.21: indices [[0, 0], [0, 1], [0, 2], [1, 0]], values [1, 2, 3, 4], dense_shape [2, 3]
    sparse = K.ctc_label_dense_to_sparse(np.array([[1, 2, 3], [4, 0, 0]], "int32"), np.array([3, 1]))
    assert sparse.indices.numpy().tolist() == [[0, 0], [0, 1], [0, 2], [1, 0]]
    assert sparse.values.numpy().tolist() == [1, 2, 3, 4] and sparse.values.dtype == np.int32
    assert sparse.dense_shape.numpy().tolist() == [2, 3]
    np.testing.assert_array_equal(K.to_dense(sparse).numpy(), [[1, 2, 3], [4, 0, 0]])
    with pytest.raises(ValueError, match="one length per row"):
        K.ctc_label_dense_to_sparse(np.ones((2, 3)), np.array([1, 2, 3]))


def test_ctc_loss_gradient_and_errors():
    from featherflow.ops.ctc import ctc_loss_dense

    labels = np.array([[1, 1, 2], [2, 0, 0]])
    check_gradient(lambda z: ctc_loss_dense(labels, z, [3, 1], [6, 4], blank_index=3),
                   [random_array((2, 6, 4), seed=3)])
    check_gradient(lambda z: ctc_loss_dense(np.array([[1, 2, 3], [0, 0, 0]]), z, [3, 0], [6, 5], blank_index=0),
                   [random_array((2, 6, 4), seed=4)])
    with pytest.raises(ValueError, match="other than the blank"):
        ctc_loss_dense([[3]], np.zeros((1, 2, 4)), [1], [2], blank_index=3)
    with pytest.raises(ValueError, match="logit_length"):
        ctc_loss_dense([[1]], np.zeros((1, 2, 4)), [1], [3], blank_index=3)
    # a label repeated needs a blank between: two frames cannot hold [1, 1]
    assert np.isinf(ctc_loss_dense([[1, 1]], np.zeros((1, 2, 4)), [2], [2], blank_index=3).numpy()[0])


def _probabilities(z):
    return tf.nn.softmax(z, axis=-1)


_ONE_HOT = np.eye(4)[[0, 3, 1]]


@pytest.mark.parametrize("fn, shapes", [
    (lambda z: K.categorical_crossentropy(tf.constant(_ONE_HOT), _probabilities(z) * 2.0), [(3, 4)]),
    (lambda z: K.categorical_crossentropy(tf.constant(_ONE_HOT), z, from_logits=True), [(3, 4)]),
    (lambda z: K.sparse_categorical_crossentropy(np.array([0, 3, 1]), _probabilities(z)), [(3, 4)]),
    (lambda z: K.categorical_focal_crossentropy(tf.constant(_ONE_HOT), z, from_logits=True), [(3, 4)]),
    (lambda z: K.binary_focal_crossentropy(tf.constant(_ONE_HOT), tf.sigmoid(z), apply_class_balancing=True),
     [(3, 4)]),
    (lambda z: K.l2_normalize(z, axis=1), [(3, 4)]),
    (lambda x, m, v, b, g: K.batch_normalization(x, m, v * v + 0.5, b, g), [(3, 4), (4,), (4,), (4,), (4,)]),
    (lambda x, g, b: K.normalize_batch_in_training(x, g, b, [0, 1])[0], [(2, 3, 4), (4,), (4,)]),
    (lambda x, b: K.bias_add(x, b, data_format="channels_first"), [(2, 3, 4, 5), (3,)]),
    (lambda x, dw, pw: K.separable_conv2d(x, dw, pw, padding="same"), [(1, 4, 5, 2), (2, 2, 2, 2), (1, 1, 4, 3)]),
    (lambda x, w: K.conv2d_transpose(x, w, (1, 6, 8, 2), strides=(2, 2), padding="same"), [(1, 3, 4, 3), (3, 3, 2, 3)]),
    (lambda x, w: K.conv3d(x, w, strides=(1, 2, 1), padding="same"), [(1, 3, 4, 3, 2), (2, 2, 2, 2, 3)]),
    (lambda x: K.pool2d(x, (2, 2), (1, 1), padding="same", pool_mode="avg"), [(1, 3, 4, 2)]),
    (lambda x: K.pool3d(x, (2, 2, 2), (1, 1, 1), pool_mode="max"), [(1, 3, 3, 3, 2)]),
    (lambda x: K.resize_images(x, 2, 3, "channels_last", interpolation="bilinear"), [(1, 2, 3, 2)]),
    (lambda x: K.resize_volumes(x, 2, 1, 2, "channels_last"), [(1, 2, 2, 2, 1)]),
    (lambda x, w: K.local_conv1d(x, w, (2,), (1,)), [(2, 4, 3), (3, 6, 2)]),
    (lambda x: K.temporal_padding(x, (1, 2)), [(2, 3, 2)]),
    (lambda x: K.spatial_3d_padding(x, ((1, 0), (0, 1), (1, 1)), data_format="channels_first"), [(1, 2, 3, 2, 2)]),
])
def test_nn_gradients(fn, shapes):
    check_gradient(fn, [random_array(shape, seed=i) for i, shape in enumerate(shapes)])
