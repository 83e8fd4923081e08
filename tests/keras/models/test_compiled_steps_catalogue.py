"""Compiled (``tf.function``) and eager steps give the same ``fit`` / ``evaluate`` / ``predict`` results across
the layer catalogue: every model is trained twice from the same seed, once with ``compile(run_eagerly=True)``,
and the histories, evaluations, predictions and weights are compared (float32 tolerance: a compiled program may
fuse elementwise chains), with one bit-identical check for a Dense chain, whose kernels are the same. Every
train, test and predict step must compile (no fallback to eager); the batches differ from step to step (a value
frozen into the program at trace time would show) and Dropout and the augmentation layers draw anew at every step
(the eager run does, so a frozen mask or transform would differ)."""

import numpy as np
import pytest

from featherflow import keras

L = keras.layers
N = 24


def _rng():
    return np.random.default_rng(7)


def dense_chain():
    model = keras.Sequential([keras.Input(shape=(4, 4)), L.Flatten(), L.Dense(16, activation="relu"),
                              L.Dropout(0.3), L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = _rng()
    return model, rng.normal(size=(N, 4, 4)).astype("float32"), rng.integers(0, 3, size=N), {}


def conv2d_pool_batchnorm():
    model = keras.Sequential([keras.Input(shape=(8, 8, 2)), L.Conv2D(4, 3, padding="same", activation="relu"),
                              L.BatchNormalization(), L.MaxPooling2D(), L.Conv2D(4, 3), L.GlobalAveragePooling2D(),
                              L.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["categorical_accuracy"])
    rng = _rng()
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, size=N)]
    return model, rng.normal(size=(N, 8, 8, 2)).astype("float32"), y, {}


def augmented_cnn():
    """Random augmentation in the model (each step draws anew, in the compiled program too), Adafactor."""
    model = keras.Sequential([keras.Input(shape=(10, 10, 2)), L.RandomFlip(seed=1), L.RandomRotation(0.1, seed=2),
                              L.RandomZoom(0.1), L.RandomTranslation(0.1, 0.1, seed=3), L.RandomCrop(8, 8),
                              L.RandomContrast(0.2, seed=4), L.RandomBrightness(0.1),
                              L.Conv2D(3, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
                              L.Dense(3, activation="softmax")])
    model.compile(optimizer="adafactor", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = _rng()
    return model, rng.uniform(0, 255, size=(N, 10, 10, 2)).astype("float32"), rng.integers(0, 3, size=N), {}


def conv1d_pool():
    model = keras.Sequential([keras.Input(shape=(10, 3)), L.Conv1D(5, 3, activation="tanh"), L.AveragePooling1D(),
                              L.Flatten(), L.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae", keras.metrics.RootMeanSquaredError(name="rmse")])
    rng = _rng()
    return model, rng.normal(size=(N, 10, 3)).astype("float32"), rng.normal(size=(N, 1)).astype("float32"), {}


def _recurrent(layer):
    def build():
        model = keras.Sequential([keras.Input(shape=(6, 3)), layer(), L.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", keras.metrics.AUC(name="auc")])
        rng = _rng()
        return model, rng.normal(size=(N, 6, 3)).astype("float32"), rng.integers(0, 2, size=(N, 1)), {}

    return build


def masked_embedding_lstm():
    model = keras.Sequential([keras.Input(shape=(7,), dtype="int32"), L.Embedding(20, 5, mask_zero=True),
                              L.LSTM(4), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    rng = _rng()
    ids = rng.integers(1, 20, size=(N, 7)).astype("int32")
    ids[np.arange(N) % 3 == 0, 4:] = 0  # padded sequences: the mask changes from batch to batch
    return model, ids, rng.integers(0, 2, size=(N, 1)), {}


def padded_pooling():
    model = keras.Sequential([keras.Input(shape=(7, 7, 2)), L.Conv2D(3, 3, strides=2, padding="same"),
                              L.MaxPooling2D(3, strides=1, padding="same"), L.AveragePooling2D(2, padding="same"),
                              L.Flatten(), L.Dense(2)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = _rng()
    return model, rng.normal(size=(N, 7, 7, 2)).astype("float32"), rng.integers(0, 2, size=N), {}


def embedding_pooling():
    model = keras.Sequential([keras.Input(shape=(7,), dtype="int32"), L.Embedding(20, 6),
                              L.GlobalAveragePooling1D(), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall")])
    rng = _rng()
    return model, rng.integers(0, 20, size=(N, 7)).astype("int32"), rng.integers(0, 2, size=(N, 1)), {}


def attention_layernorm():
    inputs = keras.Input(shape=(5, 8))
    attended = L.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    x = L.LayerNormalization()(L.Add()([inputs, attended]))
    outputs = L.Dense(2)(L.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")])
    rng = _rng()
    return model, rng.normal(size=(N, 5, 8)).astype("float32"), rng.integers(0, 2, size=N), {}


def conv2d_transpose_generator():
    """A DCGAN-style generator head: Dense, Reshape, strided Conv2DTranspose with bias and ReLU, one without."""
    model = keras.Sequential([keras.Input(shape=(6,)), L.Dense(3 * 3 * 4), L.Reshape((3, 3, 4)),
                              L.Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu"),
                              L.Conv2DTranspose(2, 2, strides=1, padding="valid", use_bias=False),
                              L.Flatten(), L.Dense(2)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = _rng()
    return model, rng.normal(size=(N, 6)).astype("float32"), rng.integers(0, 2, size=N), {}


def depthwise_separable():
    model = keras.Sequential([keras.Input(shape=(7, 7, 3)),
                              L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu"),
                              L.DepthwiseConv2D(2, strides=2, use_bias=False), L.SeparableConv2D(4, 2),
                              L.GlobalAveragePooling2D(), L.Dense(3, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = _rng()
    return model, rng.normal(size=(N, 7, 7, 3)).astype("float32"), rng.integers(0, 3, size=N), {}


def conv3d_volumes():
    model = keras.Sequential([keras.Input(shape=(4, 4, 4, 2)), L.Conv3D(3, 2, padding="same", activation="relu"),
                              L.Conv3DTranspose(2, 2, strides=2, activation="tanh"), L.Conv3D(2, 3, strides=2),
                              L.GlobalAveragePooling3D(), L.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    rng = _rng()
    return model, rng.normal(size=(N, 4, 4, 4, 2)).astype("float32"), rng.normal(size=(N, 1)).astype("float32"), {}


def multi_input_multi_output():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    joined = L.Concatenate()([L.Dense(4, activation="relu")(a), b])
    value = L.Dense(1, name="value")(joined)
    label = L.Dense(3, activation="softmax", name="label")(joined)
    model = keras.Model([a, b], [value, label])
    model.compile(optimizer="adam", loss={"value": "huber", "label": "sparse_categorical_crossentropy"},
                  loss_weights={"value": 0.5, "label": 1.0}, metrics={"value": ["mae"], "label": ["accuracy"]})
    rng = _rng()
    x = {"a": rng.normal(size=(N, 3)).astype("float32"), "b": rng.normal(size=(N, 2)).astype("float32")}
    y = {"value": rng.normal(size=(N, 1)).astype("float32"), "label": rng.integers(0, 3, size=N)}
    return model, x, y, {}


def regularized():
    model = keras.Sequential([keras.Input(shape=(4,)),
                              L.Dense(6, activation="relu", kernel_regularizer=keras.regularizers.l2(0.01),
                                      activity_regularizer=keras.regularizers.l1(0.001)),
                              L.Dense(2, kernel_regularizer="l1_l2")])
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=["categorical_crossentropy"])
    rng = _rng()
    return model, rng.normal(size=(N, 4)).astype("float32"), np.eye(2, dtype="float32")[rng.integers(0, 2, N)], {}


def clipped_decayed_averaged():
    model, x, y, _ = dense_chain()
    model.compile(optimizer=keras.optimizers.AdamW(weight_decay=0.05, global_clipnorm=0.5, use_ema=True,
                                                   ema_overwrite_frequency=2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y, {}


def sample_and_class_weights():
    model, x, y, _ = dense_chain()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    weights = np.linspace(0.5, 1.5, N).astype("float32")
    return model, x, y, {"sample_weight": weights, "class_weight": {0: 1.0, 1: 2.0, 2: 0.5}}


class _CustomStep(keras.Model):
    def train_step(self, data):
        x, y = data
        with _tape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return self.compute_metrics(x, y, y_pred, None)


def _tape():
    import featherflow as tf

    return tf.GradientTape()


def custom_train_step():
    inputs = keras.Input(shape=(4,))
    model = _CustomStep(inputs, L.Dense(1)(L.Dense(5, activation="elu")(inputs)))
    model.compile(optimizer="sgd", loss="mae", metrics=["mse"])
    rng = _rng()
    return model, rng.normal(size=(N, 4)).astype("float32"), rng.normal(size=(N, 1)).astype("float32"), {}


def several_losses():
    model = keras.Sequential([keras.Input(shape=(4,)), L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss=keras.losses.KLDivergence(),
                  metrics=[keras.metrics.CategoricalHinge(name="hinge"), keras.metrics.TopKCategoricalAccuracy(k=2, name="top2"),
                           keras.metrics.MeanIoU(num_classes=3, sparse_y_true=False, sparse_y_pred=False, name="iou")])
    rng = _rng()
    y = rng.dirichlet(np.ones(3), size=N).astype("float32")
    return model, rng.normal(size=(N, 4)).astype("float32"), y, {}


CATALOGUE = {
    "dense_chain": dense_chain, "conv2d_pool_batchnorm": conv2d_pool_batchnorm, "conv1d_pool": conv1d_pool,
    "augmented_cnn": augmented_cnn,
    "lstm": _recurrent(lambda: L.LSTM(4)), "gru": _recurrent(lambda: L.GRU(4)),
    "simple_rnn": _recurrent(lambda: L.SimpleRNN(4)),
    "bidirectional": _recurrent(lambda: L.Bidirectional(L.LSTM(3))),
    "embedding_pooling": embedding_pooling, "attention_layernorm": attention_layernorm,
    "masked_embedding_lstm": masked_embedding_lstm, "padded_pooling": padded_pooling,
    "conv2d_transpose_generator": conv2d_transpose_generator, "depthwise_separable": depthwise_separable,
    "conv3d_volumes": conv3d_volumes,
    "multi_input_multi_output": multi_input_multi_output, "regularized": regularized,
    "sample_and_class_weights": sample_and_class_weights, "clipped_decayed_averaged": clipped_decayed_averaged,
    "custom_train_step": custom_train_step,
    "several_losses": several_losses,
}


def run(build, run_eagerly):
    keras.utils.set_random_seed(3)
    model, x, y, fit_kwargs = build()
    if run_eagerly:
        model.run_eagerly = True
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=True, **fit_kwargs)
    evaluation = model.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)  # a partial last batch
    predictions = model.predict(x, batch_size=10, verbose=0)
    return model, history.history, evaluation, predictions, model.get_weights()


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_compiled_and_eager_steps_agree(name):
    _, h_eager, e_eager, p_eager, w_eager = run(CATALOGUE[name], True)
    model, h, e, p, w = run(CATALOGUE[name], False)
    assert model._train_fn.function is not None  # the steps went through tf.function
    for step in (model._train_fn, model._test_fn, model._predict_fn):
        assert step.fallback_reason is None, f"{step.name} fell back to eager: {step.fallback_reason}"
        assert step.compiled  # later calls replayed the traced program
    assert sorted(h) == sorted(h_eager) and sorted(e) == sorted(e_eager)
    for key in h:
        _close(h[key], h_eager[key])
    for key in e:
        _close(e[key], e_eager[key])
    for got, want in zip(p if isinstance(p, list) else [p], p_eager if isinstance(p_eager, list) else [p_eager]):
        _close(got, want)
    assert len(w) == len(w_eager)
    for got, want in zip(w, w_eager):
        _close(got, want)


@pytest.mark.parametrize("name", ["dense_chain", "conv2d_pool_batchnorm", "augmented_cnn", "lstm", "attention_layernorm",
                                  "conv2d_transpose_generator", "depthwise_separable", "conv3d_volumes"])
def test_compiled_is_bit_identical_to_eager(name):
    """The ops whose kernels run as host calls in a compiled step (convolutions, pooling, the LSTM, attention)
    run the same kernels as eager: histories, evaluations, predictions and weights are bit-identical."""
    _, h_eager, e_eager, p_eager, w_eager = run(CATALOGUE[name], True)
    model, h, e, p, w = run(CATALOGUE[name], False)
    assert all(step.compiled for step in (model._train_fn, model._test_fn, model._predict_fn))
    assert h == h_eager and e == e_eager
    np.testing.assert_array_equal(p, p_eager)
    for got, want in zip(w, w_eager):
        np.testing.assert_array_equal(got, want)
