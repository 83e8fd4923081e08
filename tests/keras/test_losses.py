"""keras.losses against independent float64 NumPy references: every loss as function, class and
string; reductions, sample weights, label smoothing, logits paths, masks, errors, gradients."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gradcheck import check_gradient

import featherflow as ff
from featherflow import keras

L = keras.losses
EPS = 1e-7


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(z, axis=-1):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _l2n(x, axis=-1):
    return x / np.sqrt(np.maximum((x * x).sum(axis=axis, keepdims=True), 1e-12))


# per-sample references, float64, written from the published formulas
def ref_bce(t, p, ls=0.0):
    t = t * (1 - ls) + 0.5 * ls
    p = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p + EPS) + (1 - t) * np.log(1 - p + EPS)).mean(-1)


def ref_bce_logits(t, z, ls=0.0):
    t = t * (1 - ls) + 0.5 * ls
    return (np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))).mean(-1)


def ref_cce(t, p, ls=0.0):
    t = t * (1 - ls) + ls / t.shape[-1]
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(t * np.log(p)).sum(-1)


def ref_scce(labels, p):
    logp = np.log(np.clip(p, EPS, 1 - EPS))
    return -np.take_along_axis(_log_softmax(logp), labels[..., None], -1)[..., 0]


def ref_focal_bce(t, p, gamma=2.0, alpha=0.25, balance=False):
    pt = t * p + (1 - t) * (1 - p)
    pc = np.clip(p, EPS, 1 - EPS)
    bce = -(t * np.log(pc + EPS) + (1 - t) * np.log(1 - pc + EPS))
    out = (1 - pt) ** gamma * bce
    if balance:
        out = (t * alpha + (1 - t) * (1 - alpha)) * out
    return out.mean(-1)


def ref_focal_cce(t, p, gamma=2.0, alpha=0.25):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return (alpha * (1 - p) ** gamma * -t * np.log(p)).sum(-1)


REFS = {
    "mean_squared_error": lambda t, p: ((p - t) ** 2).mean(-1),
    "mean_absolute_error": lambda t, p: np.abs(p - t).mean(-1),
    "mean_absolute_percentage_error": lambda t, p: 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(-1),
    "mean_squared_logarithmic_error": lambda t, p: (
        (np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2).mean(-1),
    "huber": lambda t, p: np.where(np.abs(p - t) <= 1.0, 0.5 * (p - t) ** 2, np.abs(p - t) - 0.5).mean(-1),
    "log_cosh": lambda t, p: np.log(np.cosh(p - t)).mean(-1),
    "cosine_similarity": lambda t, p: -(_l2n(t) * _l2n(p)).sum(-1),
    "hinge": lambda t, p: np.maximum(1 - (2 * t - 1) * p, 0).mean(-1),
    "squared_hinge": lambda t, p: (np.maximum(1 - (2 * t - 1) * p, 0) ** 2).mean(-1),
    "categorical_hinge": lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0),
    "kl_divergence": lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(-1),
    "poisson": lambda t, p: (p - t * np.log(p + EPS)).mean(-1),
    "binary_crossentropy": ref_bce,
    "binary_focal_crossentropy": ref_focal_bce,
    "categorical_crossentropy": ref_cce,
    "categorical_focal_crossentropy": ref_focal_cce,
}
CLASSES = {
    "mean_squared_error": L.MeanSquaredError, "mean_absolute_error": L.MeanAbsoluteError,
    "mean_absolute_percentage_error": L.MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": L.MeanSquaredLogarithmicError, "huber": L.Huber, "log_cosh": L.LogCosh,
    "cosine_similarity": L.CosineSimilarity, "hinge": L.Hinge, "squared_hinge": L.SquaredHinge,
    "categorical_hinge": L.CategoricalHinge, "kl_divergence": L.KLDivergence, "poisson": L.Poisson,
    "binary_crossentropy": L.BinaryCrossentropy, "binary_focal_crossentropy": L.BinaryFocalCrossentropy,
    "categorical_crossentropy": L.CategoricalCrossentropy,
    "categorical_focal_crossentropy": L.CategoricalFocalCrossentropy,
}
ALIASES = {"mse": "mean_squared_error", "MSE": "mean_squared_error", "mae": "mean_absolute_error",
           "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
           "kld": "kl_divergence", "kullback_leibler_divergence": "kl_divergence", "logcosh": "log_cosh",
           "huber_loss": "huber"}
PROBABILITY_TARGETS = {"binary_crossentropy", "binary_focal_crossentropy", "hinge", "squared_hinge",
                       "kl_divergence", "categorical_crossentropy", "categorical_focal_crossentropy",
                       "categorical_hinge"}


def _data(name, shape=(6, 4), seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, size=shape)
    if name.startswith("categorical"):
        t = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
        p = p / p.sum(-1, keepdims=True)
    elif name in PROBABILITY_TARGETS:
        t = rng.integers(0, 2, size=shape).astype(float)
    elif name == "poisson":
        t = rng.poisson(2.0, size=shape).astype(float)
    else:
        t = rng.normal(size=shape)
        p = rng.normal(size=shape)
    return t, p


@pytest.mark.parametrize("name", sorted(REFS))
def test_function_matches_reference(name):
    t, p = _data(name)
    out = getattr(L, name)(t.astype("float32"), p.astype("float32"))
    assert out.dtype == np.float32 and out.shape == (6,)
    np.testing.assert_allclose(out.numpy(), REFS[name](t, p), rtol=2e-5, atol=2e-5)
    out64 = getattr(L, name)(t, p)  # float64 inputs compute in float64
    np.testing.assert_allclose(out64.numpy(), REFS[name](t, p), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", sorted(REFS))
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "auto", "sum", "none"])
@pytest.mark.parametrize("weights", ["none", "per_sample", "column", "scalar"])
def test_class_reductions_and_sample_weights(name, reduction, weights):
    t, p = _data(name, seed=1)
    per_sample = REFS[name](t, p)
    sw = {"none": None, "per_sample": np.linspace(0.0, 2.0, 6), "column": np.linspace(0.5, 1.5, 6)[:, None],
          "scalar": 0.5}[weights]
    weighted = per_sample if sw is None else per_sample * np.reshape(sw, (-1,)) if np.ndim(sw) else per_sample * sw
    expected = {"none": weighted, "sum": weighted.sum()}.get(reduction, weighted.sum() / per_sample.size)
    loss = CLASSES[name](reduction=reduction)
    out = loss(t, p, sample_weight=sw)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-9, atol=1e-9)


def test_sequence_losses_with_weights():
    """(batch, time, features): per-timestep losses, weights per sample or per timestep."""
    rng = np.random.default_rng(3)
    t, p = rng.normal(size=(3, 5, 2)), rng.normal(size=(3, 5, 2))
    per = ((p - t) ** 2).mean(-1)  # (3, 5)
    sw = np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(L.MeanSquaredError()(t, p, sample_weight=sw).numpy(), (per * sw[:, None]).sum() / 15)
    sw2 = rng.uniform(size=(3, 5))
    np.testing.assert_allclose(L.MeanSquaredError(reduction="sum")(t, p, sample_weight=sw2).numpy(), (per * sw2).sum())


@pytest.mark.parametrize("alias,name", sorted(ALIASES.items()))
def test_string_aliases(alias, name):
    t, p = _data(name, seed=2)
    assert L.get(alias) is getattr(L, name) or L.get(alias) is L.get(name)
    np.testing.assert_allclose(L.as_loss(alias)(t, p).numpy(), REFS[name](t, p).mean(), rtol=1e-9)
    assert L.as_loss(alias).name == alias


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_serialization_round_trip(name):
    loss = CLASSES[name](reduction="sum", name="custom_name")
    config = L.serialize(loss)
    clone = L.deserialize(config)
    assert type(clone) is type(loss) and clone.get_config() == loss.get_config()
    assert clone.name == "custom_name" and clone.reduction == "sum"
    assert type(L.get(type(loss).__name__)) is type(loss)
    assert L.serialize(getattr(L, name)) == name


def test_unknown_names_and_bad_reduction():
    with pytest.raises(ValueError, match="Unknown loss function: 'msee'.*'mse'"):
        L.get("msee")
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        L.MeanSquaredError(reduction="mean")


def test_label_smoothing():
    t, p = _data("binary_crossentropy", seed=4)
    np.testing.assert_allclose(L.BinaryCrossentropy(label_smoothing=0.2)(t, p).numpy(), ref_bce(t, p, 0.2).mean())
    t, p = _data("categorical_crossentropy", seed=4)
    np.testing.assert_allclose(L.CategoricalCrossentropy(label_smoothing=0.1)(t, p).numpy(),
                               ref_cce(t, p, 0.1).mean())
    np.testing.assert_allclose(L.binary_focal_crossentropy(t, p, label_smoothing=0.3).numpy(),
                               ref_focal_bce(t * 0.7 + 0.15, p))
    np.testing.assert_allclose(L.binary_focal_crossentropy(t, p, apply_class_balancing=True, gamma=1.5).numpy(),
                               ref_focal_bce(t, p, gamma=1.5, balance=True))


def test_from_logits():
    rng = np.random.default_rng(5)
    z = rng.normal(scale=3.0, size=(6, 4))
    t = rng.integers(0, 2, size=(6, 4)).astype(float)
    np.testing.assert_allclose(L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)(t, z).numpy(),
                               ref_bce_logits(t, z, 0.1).mean())
    onehot = np.eye(4)[rng.integers(0, 4, 6)]
    np.testing.assert_allclose(L.CategoricalCrossentropy(from_logits=True)(onehot, z).numpy(),
                               -(onehot * _log_softmax(z)).sum(-1).mean())
    labels = rng.integers(0, 4, 6)
    np.testing.assert_allclose(L.SparseCategoricalCrossentropy(from_logits=True)(labels, z).numpy(),
                               -_log_softmax(z)[np.arange(6), labels].mean())
    np.testing.assert_allclose(L.categorical_focal_crossentropy(onehot, z, from_logits=True).numpy(),
                               ref_focal_cce(onehot, _softmax(z)))


def test_sparse_categorical_crossentropy():
    rng = np.random.default_rng(6)
    p = _softmax(rng.normal(size=(5, 3)))
    labels = rng.integers(0, 3, 5)
    expected = ref_scce(labels, p)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy(labels, p).numpy(), expected)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy(labels[:, None], p).numpy(), expected)
    np.testing.assert_allclose(L.sparse_categorical_crossentropy(labels.astype(float), p).numpy(), expected)
    # class axis first
    np.testing.assert_allclose(L.sparse_categorical_crossentropy(labels, p.T, axis=0).numpy(), expected)
    # sequences (batch, time, classes)
    p3 = _softmax(rng.normal(size=(2, 4, 3)))
    l3 = rng.integers(0, 3, (2, 4))
    np.testing.assert_allclose(L.sparse_categorical_crossentropy(l3, p3).numpy(),
                               ref_scce(l3.reshape(-1), p3.reshape(-1, 3)).reshape(2, 4))


def test_ignore_class_masks_the_mean():
    rng = np.random.default_rng(7)
    z = rng.normal(size=(6, 3))
    labels = np.array([0, 2, -1, 1, -1, 2])
    valid = labels != -1
    per = -_log_softmax(z)[np.arange(6), np.where(valid, labels, 0)]
    loss = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    np.testing.assert_allclose(loss(labels, z).numpy(), per[valid].mean())
    sw = np.linspace(1, 2, 6)
    np.testing.assert_allclose(loss(labels, z, sample_weight=sw).numpy(), (per * sw * valid).sum() / valid.sum())
    none = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction="none")(labels, z).numpy()
    np.testing.assert_allclose(none, per * valid)


def test_softmax_output_uses_the_fused_logits_form():
    """Extreme logits: the clipped-probability formula would saturate, the logits form does not."""
    z = np.array([[60.0, 0.0, -30.0], [0.0, 1.0, 2.0]], dtype="float32")
    expected = -_log_softmax(z.astype(float))[np.arange(2), [2, 1]]
    logits = ff.Variable(z)
    with ff.GradientTape() as tape:
        probs = ff.nn.softmax(logits)
        loss = L.SparseCategoricalCrossentropy()([2, 1], probs)
    np.testing.assert_allclose(float(loss), expected.mean(), rtol=1e-6)
    grad = tape.gradient(loss, logits).numpy()
    np.testing.assert_allclose(grad, (_softmax(z.astype(float)) - np.eye(3)[[2, 1]]) / 2, atol=1e-6)
    onehot = np.eye(3, dtype="float32")[[2, 1]]
    np.testing.assert_allclose(float(L.CategoricalCrossentropy()(onehot, ff.nn.softmax(z))), expected.mean(),
                               rtol=1e-6)


def test_from_logits_on_a_softmax_output_warns_and_uses_the_logits():
    z = np.array([[1.0, 2.0, 3.0]], dtype="float32")
    expected = -_log_softmax(z.astype(float))[0, 0]
    for loss, labels in ((L.SparseCategoricalCrossentropy(from_logits=True), [0]),
                         (L.CategoricalCrossentropy(from_logits=True), [[1.0, 0.0, 0.0]])):
        fn = loss.name
        with pytest.warns(UserWarning) as record:
            out = loss(labels, ff.nn.softmax(z))
        message = str(record[0].message)
        assert message == (f'"`{fn}` received `from_logits=True`, but the `output` argument was produced by a '
                           f'Softmax activation and thus does not represent logits. Was this intended?"')
        np.testing.assert_allclose(float(out), expected, rtol=1e-6)


def test_no_warning_without_from_logits():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L.SparseCategoricalCrossentropy()([0], ff.nn.softmax([[1.0, 2.0]]))


def test_squeeze_of_single_unit_outputs():
    t = np.array([1.0, 0.0, 1.0])
    p = np.array([[0.9], [0.2], [0.4]])
    np.testing.assert_allclose(L.BinaryCrossentropy()(t, p).numpy(), ref_bce(t[:, None], p).mean())
    np.testing.assert_allclose(L.MeanSquaredError()(t, p).numpy(), ((p[:, 0] - t) ** 2).mean())


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match=r"y_true.shape=\(4,\), y_pred.shape=\(4, 3\).*sparse_categorical"):
        L.categorical_crossentropy([0, 1, 2, 1], np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match="same shape"):
        L.binary_crossentropy(np.zeros((4, 2)), np.full((4, 3), 0.5))
    with pytest.raises(ValueError, match="mean_squared_error"):
        L.MeanSquaredError()(np.zeros((4, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="one class index per prediction"):
        L.sparse_categorical_crossentropy(np.zeros((4, 2)), np.full((4, 3), 1 / 3))


def test_sparse_label_out_of_range():
    with pytest.raises(ValueError, match=r"label value of 3 .*\[0, 3\)"):
        L.SparseCategoricalCrossentropy()([0, 3], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="label value of -1"):
        L.sparse_categorical_crossentropy([-1, 0], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="integer class indices"):
        L.sparse_categorical_crossentropy([0.5, 1.0], np.full((2, 3), 1 / 3))


def test_categorical_with_one_unit_warns():
    with pytest.warns(SyntaxWarning, match="binary_crossentropy"):
        L.categorical_crossentropy([[1.0]], [[1.0]])


def test_custom_loss_function():
    def my_loss(y_true, y_pred):
        return ff.reduce_mean(ff.square(y_pred - y_true) * 2.0, axis=-1)

    t, p = np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]])
    assert L.get(my_loss) is my_loss
    wrapped = L.as_loss(my_loss)
    assert wrapped.name == "my_loss"
    np.testing.assert_allclose(wrapped(t, p).numpy(), 5.0)
    np.testing.assert_allclose(L.LossFunctionWrapper(my_loss, reduction="sum")([[1.0], [1.0]], [[0.0], [2.0]]).numpy(),
                               4.0)
    with pytest.raises(TypeError, match="callable"):
        L.LossFunctionWrapper(3)


def test_subclassed_loss():
    class Scaled(L.Loss):
        def call(self, y_true, y_pred):
            return ff.reduce_sum(ff.abs(y_pred - y_true), axis=-1)

    np.testing.assert_allclose(Scaled()([[1.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]]).numpy(), 1.5)


def test_loss_kind():
    assert L.loss_kind("binary_crossentropy") == "binary"
    assert L.loss_kind(L.BinaryCrossentropy(from_logits=True)) == "binary"
    assert L.loss_kind("sparse_categorical_crossentropy") == "sparse"
    assert L.loss_kind(L.CategoricalCrossentropy()) == "categorical"
    assert L.loss_kind("mse") is None and L.loss_kind(lambda a, b: a) is None


def test_empty_batch():
    assert float(L.MeanSquaredError()(np.zeros((0, 2)), np.zeros((0, 2)))) == 0.0


@pytest.mark.parametrize("name", sorted(REFS))
def test_gradients(name):
    t, p = _data(name, shape=(3, 4), seed=8)
    if name == "huber":
        p = t + np.array([0.3, -2.0, 1.7, -0.4])  # both branches, away from the kink
    fn = getattr(L, name)
    check_gradient(lambda pred: fn(ff.constant(t), pred), [p], rtol=1e-4, atol=1e-6)


def test_gradients_through_logits_paths():
    rng = np.random.default_rng(9)
    z = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 1])
    check_gradient(lambda x: L.sparse_categorical_crossentropy(labels, ff.nn.softmax(x)), [z])
    check_gradient(lambda x: L.categorical_crossentropy(np.eye(3)[labels], x, from_logits=True), [z])
    check_gradient(lambda x: L.binary_crossentropy(np.eye(3)[labels], x, from_logits=True, label_smoothing=0.1),
                   [z])


def test_sigmoid_output_uses_the_fused_logits_form():
    z = np.array([[40.0], [-3.0], [0.5]], dtype="float32")
    t = np.array([[0.0], [1.0], [1.0]], dtype="float32")
    expected = ref_bce_logits(t.astype(float), z.astype(float)).mean()
    logits = ff.Variable(z)
    with ff.GradientTape() as tape:
        loss = L.BinaryCrossentropy()(t, ff.nn.sigmoid(logits))
    np.testing.assert_allclose(float(loss), expected, rtol=1e-6)  # the clipped formula would give ~16.1
    sig = 1 / (1 + np.exp(-z.astype(float)))
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), (sig - t) / 3, atol=1e-7)
    with pytest.warns(UserWarning, match="binary_crossentropy.*Sigmoid activation"):
        out = L.BinaryCrossentropy(from_logits=True)(t, ff.nn.sigmoid(z))
    np.testing.assert_allclose(float(out), expected, rtol=1e-6)
    # a (batch,) target squeezes the (batch, 1) sigmoid output and keeps its logits
    np.testing.assert_allclose(float(L.BinaryCrossentropy()(t[:, 0], ff.nn.sigmoid(z))), expected, rtol=1e-6)
    # sigmoid logits are not softmax logits: categorical losses use the probabilities
    p = ff.nn.sigmoid(ff.constant([[0.2, -0.4]]))
    np.testing.assert_allclose(float(L.categorical_crossentropy([[1.0, 0.0]], p)[0]),
                               ref_cce(np.array([[1.0, 0.0]]), p.numpy().astype(float))[0], rtol=1e-6)
