"""Every public layer, optimizer and loss trains in a compiled ``fit`` step (``tf.function``) with no fallback to
eager, and gives ``compile(run_eagerly=True)``'s results.

Each case is a small model: the layer under test on a fresh input, then ``Flatten`` and ``Dense(2)`` (the layer's
own weights, if any, train too). It is fitted for two steps from the same seed twice, once eagerly and once
compiled, on batches that differ from step to step (a value frozen into the program at trace time would show);
random layers draw at every step in both runs, so a frozen draw would differ too. The compiled train and predict
steps must have replayed their programs with no fallback, and the losses, predictions and weights must agree to
float32 tolerance.

``RandomHeight`` and ``RandomWidth`` are the documented exceptions: their output size is drawn at every call, a
shape a compiled program (one fixed shape per trace) cannot have, so the step runs eagerly after one warning
naming the layer and the reason (tested below).
"""

import warnings

import numpy as np
import pytest

from featherflow import keras

L = keras.layers
N, BATCH = 16, 8
VOCAB = ["the", "cat", "sat", "on", "mat", "a", "dog"]


def _floats(shape, low=-1.0, high=1.0):
    return lambda rng: rng.uniform(low, high, (N,) + shape).astype("float32")


def _ints(shape, high=10):
    return lambda rng: rng.integers(0, high, (N,) + shape).astype("int64")


def _words(shape):
    return lambda rng: np.array(VOCAB + ["unknown"], dtype=object)[rng.integers(0, len(VOCAB) + 1, (N,) + shape)]


def _sentences(rng):
    words = np.array(VOCAB, dtype=object)
    return np.array([" ".join(words[rng.integers(0, len(VOCAB), 4)]) for _ in range(N)], dtype=object)[:, None]


def _image(shape=(8, 8, 3)):
    return _floats(shape, 0.0, 255.0)


def _merge(layer_cls, **kwargs):
    return lambda x: layer_cls(**kwargs)([L.Dense(3)(x), L.Dense(3, activation="tanh")(x)])


def _rnn_cell(make_cell):
    return lambda x: L.RNN(make_cell())(x)


# name -> (inputs -> outputs, input shape, input dtype, data); the outputs get Flatten + Dense(2)
_SEQ, _IMG = (5, 3), (8, 8, 3)
LAYERS = {
    "Activation": (lambda x: L.Activation("tanh")(x), (4,), "float32", _floats((4,))),
    "ActivityRegularization": (lambda x: L.ActivityRegularization(0.01, 0.01)(L.Dense(3)(x)), (4,), "float32",
                               _floats((4,))),
    "Add": (_merge(L.Add), (4,), "float32", _floats((4,))),
    "Subtract": (_merge(L.Subtract), (4,), "float32", _floats((4,))),
    "Multiply": (_merge(L.Multiply), (4,), "float32", _floats((4,))),
    "Average": (_merge(L.Average), (4,), "float32", _floats((4,))),
    "Maximum": (_merge(L.Maximum), (4,), "float32", _floats((4,))),
    "Minimum": (_merge(L.Minimum), (4,), "float32", _floats((4,))),
    "Concatenate": (_merge(L.Concatenate), (4,), "float32", _floats((4,))),
    "Dot": (_merge(L.Dot, axes=1, normalize=True), (4,), "float32", _floats((4,))),
    "Attention": (lambda x: L.Attention(use_scale=True)([x, L.Dense(3)(x)]), _SEQ, "float32", _floats(_SEQ)),
    "AdditiveAttention": (lambda x: L.AdditiveAttention()([x, L.Dense(3)(x)]), _SEQ, "float32", _floats(_SEQ)),
    "MultiHeadAttention": (lambda x: L.MultiHeadAttention(2, 2, dropout=0.2)(x, x), _SEQ, "float32", _floats(_SEQ)),
    "AlphaDropout": (lambda x: L.AlphaDropout(0.3)(x), (6,), "float32", _floats((6,))),
    "Dropout": (lambda x: L.Dropout(0.3)(x), (6,), "float32", _floats((6,))),
    "GaussianDropout": (lambda x: L.GaussianDropout(0.3)(x), (6,), "float32", _floats((6,))),
    "GaussianNoise": (lambda x: L.GaussianNoise(0.3)(x), (6,), "float32", _floats((6,))),
    "SpatialDropout1D": (lambda x: L.SpatialDropout1D(0.3)(x), _SEQ, "float32", _floats(_SEQ)),
    "SpatialDropout2D": (lambda x: L.SpatialDropout2D(0.3)(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "SpatialDropout3D": (lambda x: L.SpatialDropout3D(0.3)(x), (3, 3, 3, 2), "float32", _floats((3, 3, 3, 2))),
    "AveragePooling1D": (lambda x: L.AveragePooling1D(2)(x), _SEQ, "float32", _floats(_SEQ)),
    "AveragePooling2D": (lambda x: L.AveragePooling2D(2)(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "AveragePooling3D": (lambda x: L.AveragePooling3D(2)(x), (4, 4, 4, 2), "float32", _floats((4, 4, 4, 2))),
    "MaxPooling1D": (lambda x: L.MaxPooling1D(2)(x), _SEQ, "float32", _floats(_SEQ)),
    "MaxPooling2D": (lambda x: L.MaxPooling2D(2)(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "MaxPooling3D": (lambda x: L.MaxPooling3D(2)(x), (4, 4, 4, 2), "float32", _floats((4, 4, 4, 2))),
    "GlobalAveragePooling1D": (lambda x: L.GlobalAveragePooling1D()(x), _SEQ, "float32", _floats(_SEQ)),
    "GlobalAveragePooling2D": (lambda x: L.GlobalAveragePooling2D()(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "GlobalAveragePooling3D": (lambda x: L.GlobalAveragePooling3D()(x), (3, 3, 3, 2), "float32",
                               _floats((3, 3, 3, 2))),
    "GlobalMaxPooling1D": (lambda x: L.GlobalMaxPooling1D()(x), _SEQ, "float32", _floats(_SEQ)),
    "GlobalMaxPooling2D": (lambda x: L.GlobalMaxPooling2D()(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "GlobalMaxPooling3D": (lambda x: L.GlobalMaxPooling3D()(x), (3, 3, 3, 2), "float32", _floats((3, 3, 3, 2))),
    "BatchNormalization": (lambda x: L.BatchNormalization()(x), (4,), "float32", _floats((4,))),
    "LayerNormalization": (lambda x: L.LayerNormalization()(x), (4,), "float32", _floats((4,))),
    "GroupNormalization": (lambda x: L.GroupNormalization(2)(x), (4, 4), "float32", _floats((4, 4))),
    "UnitNormalization": (lambda x: L.UnitNormalization()(x), (4,), "float32", _floats((4,))),
    "Normalization": (lambda x: L.Normalization(mean=0.5, variance=2.0)(x), (4,), "float32", _floats((4,))),
    "SyncBatchNormalization": (lambda x: L.experimental.SyncBatchNormalization()(x), (4,), "float32",
                               _floats((4,))),
    "Bidirectional": (lambda x: L.Bidirectional(L.GRU(3, return_sequences=True))(x), _SEQ, "float32",
                      _floats(_SEQ)),
    "LSTM": (lambda x: L.LSTM(3, dropout=0.2, recurrent_dropout=0.2)(x), _SEQ, "float32", _floats(_SEQ)),
    "GRU": (lambda x: L.GRU(3, reset_after=False)(x), _SEQ, "float32", _floats(_SEQ)),
    "SimpleRNN": (lambda x: L.SimpleRNN(3, return_sequences=True, go_backwards=True)(x), _SEQ, "float32",
                  _floats(_SEQ)),
    "RNN[SimpleRNNCell]": (_rnn_cell(lambda: L.SimpleRNNCell(3)), _SEQ, "float32", _floats(_SEQ)),
    "RNN[LSTMCell]": (_rnn_cell(lambda: L.LSTMCell(3)), _SEQ, "float32", _floats(_SEQ)),
    "RNN[GRUCell]": (_rnn_cell(lambda: L.GRUCell(3)), _SEQ, "float32", _floats(_SEQ)),
    "RNN[StackedRNNCells]": (_rnn_cell(lambda: L.StackedRNNCells([L.LSTMCell(3), L.GRUCell(2)])), _SEQ, "float32",
                             _floats(_SEQ)),
    "ConvLSTM1D": (lambda x: L.ConvLSTM1D(2, 2)(x), (3, 5, 2), "float32", _floats((3, 5, 2))),
    "ConvLSTM2D": (lambda x: L.ConvLSTM2D(2, 2)(x), (3, 4, 4, 2), "float32", _floats((3, 4, 4, 2))),
    "ConvLSTM3D": (lambda x: L.ConvLSTM3D(2, 2)(x), (2, 3, 3, 3, 1), "float32", _floats((2, 3, 3, 3, 1))),
    "Conv1D": (lambda x: L.Conv1D(2, 2, dilation_rate=2)(x), _SEQ, "float32", _floats(_SEQ)),
    "Conv1DTranspose": (lambda x: L.Conv1DTranspose(2, 2, strides=2)(x), _SEQ, "float32", _floats(_SEQ)),
    "Conv2D": (lambda x: L.Conv2D(2, 2, strides=2, padding="same")(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "Conv2DTranspose": (lambda x: L.Conv2DTranspose(2, 2)(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "Conv3D": (lambda x: L.Conv3D(2, 2)(x), (3, 3, 3, 2), "float32", _floats((3, 3, 3, 2))),
    "Conv3DTranspose": (lambda x: L.Conv3DTranspose(2, 2)(x), (3, 3, 3, 2), "float32", _floats((3, 3, 3, 2))),
    "DepthwiseConv1D": (lambda x: L.DepthwiseConv1D(2)(x), _SEQ, "float32", _floats(_SEQ)),
    "DepthwiseConv2D": (lambda x: L.DepthwiseConv2D(2)(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "SeparableConv1D": (lambda x: L.SeparableConv1D(2, 2)(x), _SEQ, "float32", _floats(_SEQ)),
    "SeparableConv2D": (lambda x: L.SeparableConv2D(2, 2)(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "LocallyConnected1D": (lambda x: L.LocallyConnected1D(2, 2)(x), _SEQ, "float32", _floats(_SEQ)),
    "LocallyConnected2D": (lambda x: L.LocallyConnected2D(2, 2)(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "Cropping1D": (lambda x: L.Cropping1D(1)(x), _SEQ, "float32", _floats(_SEQ)),
    "Cropping2D": (lambda x: L.Cropping2D(1)(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "Cropping3D": (lambda x: L.Cropping3D(1)(x), (3, 3, 3, 2), "float32", _floats((3, 3, 3, 2))),
    "ZeroPadding1D": (lambda x: L.ZeroPadding1D(1)(x), _SEQ, "float32", _floats(_SEQ)),
    "ZeroPadding2D": (lambda x: L.ZeroPadding2D(1)(x), (4, 4, 2), "float32", _floats((4, 4, 2))),
    "ZeroPadding3D": (lambda x: L.ZeroPadding3D(1)(x), (3, 3, 3, 2), "float32", _floats((3, 3, 3, 2))),
    "UpSampling1D": (lambda x: L.UpSampling1D(2)(x), _SEQ, "float32", _floats(_SEQ)),
    "UpSampling2D": (lambda x: L.UpSampling2D(2, interpolation="bilinear")(x), (4, 4, 2), "float32",
                     _floats((4, 4, 2))),
    "UpSampling3D": (lambda x: L.UpSampling3D(2)(x), (2, 2, 2, 2), "float32", _floats((2, 2, 2, 2))),
    "Dense": (lambda x: L.Dense(3, activation="relu", kernel_regularizer="l2")(x), (4,), "float32", _floats((4,))),
    "EinsumDense": (lambda x: L.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c")(x), (4,), "float32",
                    _floats((4,))),
    "RandomFourierFeatures": (lambda x: L.experimental.RandomFourierFeatures(5)(x), (4,), "float32",
                              _floats((4,))),
    "Embedding": (lambda x: L.Embedding(10, 3)(x), (4,), "int64", _ints((4,))),
    "Masking": (lambda x: L.LSTM(2)(L.Masking(0.0)(x)), _SEQ, "float32",
                lambda rng: _floats(_SEQ)(rng) * (rng.uniform(size=(N, 5, 1)) > 0.3)),
    "Flatten": (lambda x: L.Flatten()(x), (3, 2), "float32", _floats((3, 2))),
    "Identity": (lambda x: L.Identity()(x), (4,), "float32", _floats((4,))),
    "Lambda": (lambda x: L.Lambda(lambda t: t * 2.0 + 1.0)(x), (4,), "float32", _floats((4,))),
    "Permute": (lambda x: L.Permute((2, 1))(x), (3, 2), "float32", _floats((3, 2))),
    "RepeatVector": (lambda x: L.RepeatVector(3)(x), (4,), "float32", _floats((4,))),
    "Reshape": (lambda x: L.Reshape((2, 2))(x), (4,), "float32", _floats((4,))),
    "ELU": (lambda x: L.ELU()(x), (4,), "float32", _floats((4,))),
    "LeakyReLU": (lambda x: L.LeakyReLU()(x), (4,), "float32", _floats((4,))),
    "PReLU": (lambda x: L.PReLU()(x), (4,), "float32", _floats((4,))),
    "ReLU": (lambda x: L.ReLU(max_value=0.5, negative_slope=0.1, threshold=0.1)(x), (4,), "float32", _floats((4,))),
    "Softmax": (lambda x: L.Softmax()(x), (4,), "float32", _floats((4,))),
    "ThresholdedReLU": (lambda x: L.ThresholdedReLU(0.1)(x), (4,), "float32", _floats((4,))),
    "SpectralNormalization": (lambda x: L.SpectralNormalization(L.Dense(3))(x), (4,), "float32", _floats((4,))),
    "TimeDistributed": (lambda x: L.TimeDistributed(L.Dense(2))(x), _SEQ, "float32", _floats(_SEQ)),
    "CategoryEncoding": (lambda x: L.CategoryEncoding(6, output_mode="count")(x), (3,), "int64", _ints((3,), 6)),
    "Discretization": (lambda x: L.Discretization(bin_boundaries=[-0.5, 0.0, 0.5])(x), (4,), "float32",
                       _floats((4,))),
    "Hashing": (lambda x: L.Hashing(5, output_mode="one_hot")(x), (1,), "int64", _ints((1,), 50)),
    "HashedCrossing": (lambda xs: L.HashedCrossing(7, output_mode="one_hot")(xs), [(1,), (1,)], ["int64", "string"],
                       lambda rng: [_ints((1,), 20)(rng), _words((1,))(rng)]),
    "IntegerLookup": (lambda x: L.Embedding(6, 2)(L.IntegerLookup(vocabulary=[1, 3, 5, 7])(x)), (3,), "int64",
                      _ints((3,))),
    "StringLookup": (lambda x: L.Embedding(9, 2)(L.StringLookup(vocabulary=VOCAB)(x)), (3,), "string",
                     _words((3,))),
    "TextVectorization": (lambda x: L.Embedding(10, 2)(L.TextVectorization(vocabulary=VOCAB,
                                                                           output_sequence_length=4)(x)),
                          (1,), "string", _sentences),
    "Rescaling": (lambda x: L.Rescaling(1 / 255.0, offset=-0.5)(x), _IMG, "float32", _image()),
    "Resizing": (lambda x: L.Resizing(5, 6)(x), _IMG, "float32", _image()),
    "CenterCrop": (lambda x: L.CenterCrop(5, 6)(x), _IMG, "float32", _image()),
    "RandomFlip": (lambda x: L.RandomFlip()(x), _IMG, "float32", _image()),
    "RandomRotation": (lambda x: L.RandomRotation(0.2)(x), _IMG, "float32", _image()),
    "RandomRotation[nearest,constant]": (lambda x: L.RandomRotation(0.2, fill_mode="constant", fill_value=3.0,
                                                                    interpolation="nearest", seed=4)(x),
                                         _IMG, "float32", _image()),
    "RandomZoom": (lambda x: L.RandomZoom(0.2, (-0.3, 0.1), fill_mode="wrap")(x), _IMG, "float32", _image()),
    "RandomTranslation": (lambda x: L.RandomTranslation(0.2, 0.3, fill_mode="nearest")(x), _IMG, "float32",
                          _image()),
    "RandomTranslation[after Conv2D]": (lambda x: L.RandomTranslation(0.2, 0.3, seed=2)(L.Conv2D(2, 3)(x)), _IMG,
                                        "float32", _image()),
    "RandomContrast": (lambda x: L.RandomContrast(0.4)(x), _IMG, "float32", _image()),
    "RandomBrightness": (lambda x: L.RandomBrightness(0.3)(x), _IMG, "float32", _image()),
    "RandomCrop": (lambda x: L.RandomCrop(5, 6)(x), _IMG, "float32", _image()),
    "RandomCrop[after Conv2D]": (lambda x: L.RandomCrop(4, 3, seed=1)(L.Conv2D(2, 3)(x)), _IMG, "float32", _image()),
}
EAGER_BY_DESIGN = {
    "RandomHeight": (lambda x: L.GlobalAveragePooling2D()(L.RandomHeight(0.3)(x)), _IMG, "float32", _image()),
    "RandomWidth": (lambda x: L.GlobalAveragePooling2D()(L.RandomWidth(0.3)(x)), _IMG, "float32", _image()),
}
OPTIMIZERS = ["SGD", "Adam", "AdamW", "Adamax", "Adagrad", "Adadelta", "RMSprop", "Nadam", "Ftrl", "Lion",
              "Adafactor"]


def _targets(rng, kind):
    """Targets for a 2-unit output, and the output activation the loss expects."""
    if kind == "sparse":
        return rng.integers(0, 2, N), "softmax"
    if kind == "onehot":
        return np.eye(2, dtype="float32")[rng.integers(0, 2, N)], "softmax"
    if kind == "binary":
        return rng.integers(0, 2, (N, 2)).astype("float32"), "sigmoid"
    if kind == "signs":
        return rng.choice([-1.0, 1.0], (N, 2)).astype("float32"), None
    if kind == "positive":
        return rng.uniform(0.5, 2.0, (N, 2)).astype("float32"), "softplus"
    if kind == "logits_sparse":
        return rng.integers(0, 2, N), None
    if kind == "logits_binary":
        return rng.integers(0, 2, (N, 2)).astype("float32"), None
    return rng.normal(size=(N, 2)).astype("float32"), None


LOSSES = {
    "BinaryCrossentropy": (lambda: keras.losses.BinaryCrossentropy(label_smoothing=0.1), "binary"),
    "BinaryCrossentropy[logits]": (lambda: keras.losses.BinaryCrossentropy(from_logits=True), "logits_binary"),
    "BinaryFocalCrossentropy": (lambda: keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True), "binary"),
    "CategoricalCrossentropy": (lambda: keras.losses.CategoricalCrossentropy(label_smoothing=0.1), "onehot"),
    "CategoricalCrossentropy[logits]": (lambda: keras.losses.CategoricalCrossentropy(from_logits=True), "binary"),
    "CategoricalFocalCrossentropy": (lambda: keras.losses.CategoricalFocalCrossentropy(), "onehot"),
    "SparseCategoricalCrossentropy": (lambda: keras.losses.SparseCategoricalCrossentropy(), "sparse"),
    "SparseCategoricalCrossentropy[logits]": (lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                                              "logits_sparse"),
    "SparseCategoricalCrossentropy[ignore_class]": (
        lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1), "logits_sparse"),
    "CategoricalHinge": (lambda: keras.losses.CategoricalHinge(), "onehot"),
    "Hinge": (lambda: keras.losses.Hinge(), "signs"),
    "SquaredHinge": (lambda: keras.losses.SquaredHinge(), "signs"),
    "CosineSimilarity": (lambda: keras.losses.CosineSimilarity(), "regression"),
    "Huber": (lambda: keras.losses.Huber(delta=0.5), "regression"),
    "KLDivergence": (lambda: keras.losses.KLDivergence(), "onehot"),
    "LogCosh": (lambda: keras.losses.LogCosh(), "regression"),
    "MeanAbsoluteError": (lambda: keras.losses.MeanAbsoluteError(), "regression"),
    "MeanAbsolutePercentageError": (lambda: keras.losses.MeanAbsolutePercentageError(), "positive"),
    "MeanSquaredError": (lambda: keras.losses.MeanSquaredError(reduction="sum"), "regression"),
    "MeanSquaredLogarithmicError": (lambda: keras.losses.MeanSquaredLogarithmicError(), "positive"),
    "Poisson": (lambda: keras.losses.Poisson(), "positive"),
    "mse (by name)": (lambda: "mse", "regression"),
}


def _fit(case, run_eagerly, optimizer=lambda: "adam", loss=(lambda: "mse", "regression")):
    make, shape, dtype, data = case
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(11)
    x = data(rng)
    make_loss, kind = loss
    y, activation = _targets(rng, kind)
    inputs = [keras.Input(s, dtype=d) for s, d in zip(shape, dtype)] if isinstance(shape, list) else \
        keras.Input(shape, dtype=dtype)
    outputs = L.Dense(2, activation=activation)(L.Flatten()(make(inputs)))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=optimizer(), loss=make_loss(), run_eagerly=run_eagerly)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0).history
        history["predictions"] = model.predict(x, batch_size=BATCH, verbose=0)
    return model, history, model.get_weights(), [str(w.message) for w in caught]


def _check_agrees(case, **kwargs):
    _, h_eager, w_eager, _ = _fit(case, True, **kwargs)
    model, h, w, _ = _fit(case, False, **kwargs)
    for step in (model._train_fn, model._predict_fn):
        assert step.fallback_reason is None, f"{step.name} fell back to eager: {step.fallback_reason}"
        assert step.compiled and step.function.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(h["loss"], h_eager["loss"], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(h["predictions"], h_eager["predictions"], rtol=2e-5, atol=1e-5)
    assert len(w) == len(w_eager)
    for got, want in zip(w, w_eager):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)


# known fallbacks outside this test's files, each with the fix it needs (strict: the case fails once it compiles,
# so the mark is removed with the fix)
KNOWN_FALLBACKS = {
}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FALLBACKS[name]))
                                  if name in KNOWN_FALLBACKS else name for name in sorted(LAYERS)])
def test_every_layer_trains_compiled(name):
    _check_agrees(LAYERS[name])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_trains_compiled(name):
    case = (lambda x: L.Dense(3, activation="tanh")(x), (4,), "float32", _floats((4,)))
    _check_agrees(case, optimizer=getattr(keras.optimizers, name))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_trains_compiled(name):
    case = (lambda x: L.Dense(3, activation="tanh")(x), (4,), "float32", _floats((4,)))
    _check_agrees(case, loss=LOSSES[name])


def test_the_catalogue_covers_every_public_layer_optimizer_and_loss():
    layer_names = {name.split("[")[0] for name in list(LAYERS) + list(EAGER_BY_DESIGN)}
    aliases = {"AvgPool1D", "AvgPool2D", "AvgPool3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "GlobalAvgPool1D",
               "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
               "Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose", "Convolution2DTranspose",
               "Convolution3DTranspose", "SeparableConvolution1D", "SeparableConvolution2D"}
    covered_elsewhere = {"SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells", "RNN"}  # the RNN[...] cases
    base_classes = {"Layer", "InputLayer", "Wrapper", "AbstractRNNCell"}
    public = {name for name in dir(L) if isinstance(getattr(L, name), type) and issubclass(getattr(L, name), L.Layer)}
    missing = public - layer_names - aliases - covered_elsewhere - base_classes
    assert not missing, f"layers with no compiled-step case: {sorted(missing)}"
    optimizers = {name for name in dir(keras.optimizers) if isinstance(getattr(keras.optimizers, name), type)
                  and issubclass(getattr(keras.optimizers, name), keras.optimizers.Optimizer)}
    assert optimizers - {"Optimizer"} == set(OPTIMIZERS)
    losses = {name for name in dir(keras.losses) if isinstance(getattr(keras.losses, name), type)
              and issubclass(getattr(keras.losses, name), keras.losses.Loss)}
    assert losses - {"Loss", "LossFunctionWrapper"} <= {name.split("[")[0] for name in LOSSES}


@pytest.mark.parametrize("name", sorted(EAGER_BY_DESIGN))
def test_random_height_and_width_run_eagerly_with_a_warning_naming_the_layer(name):
    _, h_eager, w_eager, _ = _fit(EAGER_BY_DESIGN[name], True)
    model, h, w, messages = _fit(EAGER_BY_DESIGN[name], False)
    step = model._train_fn
    assert step.fallback_reason is not None and not step.compiled
    assert model._predict_fn.compiled  # inference passes the images through: it compiles
    layer = next(layer for layer in model.layers if type(layer).__name__ == name)
    axis = "height" if name == "RandomHeight" else "width"
    reason = f'layer "{layer.name}" ({name}) resizes its images to a random {axis} drawn at every call'
    assert reason in step.fallback_reason
    assert sum(reason in m and "runs eagerly" in m for m in messages) == 1, messages
    np.testing.assert_allclose(h["loss"], h_eager["loss"], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(h["predictions"], h_eager["predictions"], rtol=2e-5, atol=1e-5)
    for got, want in zip(w, w_eager):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
