"""keras.io / tensorflow.org "Training & evaluation with the built-in methods" guide.

fit/evaluate/predict with validation_data and validation_split, `history.history`; a custom loss function and a
`Loss` subclass; a stateful custom `Metric` (add_weight, update_state, result, reset_state); `add_loss` and
`add_metric` from a layer; passing a `tf.data.Dataset`; `class_weight` and `sample_weight`; a two-input two-output
model with per-output losses/metrics and `None` for an output without a loss; callbacks (EarlyStopping with
min_delta, ModelCheckpoint with the monitored value in the path, learning-rate schedule objects).
"""

import os

import numpy as np
from program_data import mnist_sample

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    return model


def load_digits(n_train=1500, n_test=500):
    (x_train, y_train), (x_test, y_test) = mnist_sample(n_train, n_test)
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    return (x_train, y_train.astype("float32")), (x_test, y_test.astype("float32"))


def test_fit_evaluate_predict():
    tf.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits()
    x_val, y_val = x_train[-300:], y_train[-300:]
    x_train, y_train = x_train[:-300], y_train[:-300]
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.RMSprop(),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, validation_data=(x_val, y_val), verbose=0)
    assert sorted(history.history) == ["loss", "sparse_categorical_accuracy", "val_loss",
                                       "val_sparse_categorical_accuracy"]
    results = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    assert len(results) == 2 and results[1] > 0.8
    results_dict = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    np.testing.assert_allclose(list(results_dict.values()), results, rtol=1e-6)
    predictions = model.predict(x_test[:3], verbose=0)
    assert predictions.shape == (3, 10)
    # evaluate's loss is the mean cross-entropy of predict's probabilities.
    probs = model.predict(x_test, verbose=0)
    expected_loss = -np.mean(np.log(np.clip(probs[np.arange(len(y_test)), y_test.astype(int)], 1e-7, 1)))
    np.testing.assert_allclose(results[0], expected_loss, rtol=1e-4)

    # validation_split takes the last 20 % of the arrays, before any shuffling.
    model = get_compiled_model()
    history = model.fit(x_train, y_train, batch_size=64, validation_split=0.2, epochs=1, verbose=0)
    held_out = model.evaluate(x_train[-240:], y_train[-240:], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][0], held_out[0], rtol=1e-5)

    # A tf.data.Dataset of (x, y) batches: no batch_size, and steps_per_epoch can cut epochs short.
    model = get_compiled_model()
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(buffer_size=1024).batch(64)
    test_dataset = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(64)
    model.fit(train_dataset, epochs=2, steps_per_epoch=8, verbose=0)  # 16 of the dataset's 19 batches
    assert int(model.optimizer.iterations.numpy()) == 16
    dataset_results = model.evaluate(test_dataset, return_dict=True, verbose=0)
    np.testing.assert_allclose(dataset_results["loss"], model.evaluate(x_test, y_test, verbose=0)[0], rtol=1e-5)


def custom_mean_squared_error(y_true, y_pred):
    return tf.math.reduce_mean(tf.square(y_true - y_pred), axis=-1)


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = tf.math.reduce_mean(tf.square(y_true - y_pred), axis=-1)
        reg = tf.math.reduce_mean(tf.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.reshape(tf.argmax(y_pred, axis=1), shape=(-1, 1))
        values = tf.cast(y_true, "int32") == tf.cast(y_pred, "int32")
        values = tf.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = tf.cast(sample_weight, "float32")
            values = tf.multiply(values, sample_weight)
        self.true_positives.assign_add(tf.reduce_sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


class ActivityRegularizationLayer(layers.Layer):
    def call(self, inputs):
        self.add_loss(tf.reduce_sum(inputs) * 0.1)
        return inputs


class MetricLoggingLayer(layers.Layer):
    def call(self, inputs):
        self.add_metric(keras.backend.std(inputs), name="std_of_activation", aggregation="mean")
        return inputs


def test_custom_losses_and_metrics():
    tf.keras.utils.set_random_seed(0)
    (x_train, y_train), _ = load_digits(600, 10)
    y_train_one_hot = tf.one_hot(y_train.astype("int32"), depth=10)

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)
    history = model.fit(x_train, y_train_one_hot, batch_size=64, epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    probs = model.predict(x_train, verbose=0)
    expected = np.mean(np.mean((y_train_one_hot.numpy() - probs) ** 2, axis=-1))
    np.testing.assert_allclose(model.evaluate(x_train, y_train_one_hot, verbose=0), expected, rtol=1e-4)

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
    model.fit(x_train, y_train_one_hot, batch_size=64, epochs=1, verbose=0)
    probs = model.predict(x_train, verbose=0)
    expected = np.mean(np.mean((y_train_one_hot.numpy() - probs) ** 2, -1) + 0.1 * np.mean((0.5 - probs) ** 2, -1))
    np.testing.assert_allclose(model.evaluate(x_train, y_train_one_hot, verbose=0), expected, rtol=1e-4)

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[CategoricalTruePositives()])
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0)
    # The metric is reset each epoch and counts the epoch's correct predictions (600 images).
    positives = history.history["categorical_true_positives"]
    assert len(positives) == 3 and positives[0] < positives[-1] <= 600
    metric = CategoricalTruePositives()
    metric.update_state(np.array([[1], [2], [0]]), np.eye(3)[[1, 0, 0]], sample_weight=np.array([[1.0], [1], [3]]))
    assert float(metric.result()) == 4.0
    metric.reset_state()
    assert float(metric.result()) == 0.0

    # A layer's add_loss: the activity penalty is part of the loss fit reports.
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    logits = model.predict(x_train[:64], verbose=0)
    hidden = keras.Model(inputs, model.get_layer("dense_1").output).predict(x_train[:64], verbose=0)
    log_probs = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) - \
        logits.max(1, keepdims=True)
    cross_entropy = -np.mean(log_probs[np.arange(64), y_train[:64].astype(int)])
    np.testing.assert_allclose(model.evaluate(x_train[:64], y_train[:64], batch_size=64, verbose=0),
                               cross_entropy + 0.1 * hidden.sum(), rtol=1e-4)

    # A layer's add_metric is logged under its name.
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = MetricLoggingLayer()(x)
    outputs = layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="rmsprop", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0)
    assert sorted(history.history) == ["loss", "std_of_activation"]
    assert history.history["std_of_activation"][0] > 0


def test_class_and_sample_weights():
    tf.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits(1000, 500)
    # Class 5 counts twice as much: its recall rises over an unweighted model's (trained from the same seed).
    class_weight = {i: 1.0 for i in range(10)}
    class_weight[5] = 2.0
    sample_weight = np.ones(shape=(len(y_train),))
    sample_weight[y_train == 5] = 2.0

    def recall_of_5(model):
        predicted = model.predict(x_test, verbose=0).argmax(1)
        return np.mean(predicted[y_test == 5] == 5)

    tf.keras.utils.set_random_seed(1)
    weighted = get_compiled_model()
    tf.keras.utils.set_random_seed(1)
    sample_weighted = get_compiled_model()
    for a, b in zip(weighted.get_weights(), sample_weighted.get_weights()):
        np.testing.assert_array_equal(a, b)
    h1 = weighted.fit(x_train, y_train, class_weight=class_weight, batch_size=64, epochs=2, shuffle=False, verbose=0)
    h2 = sample_weighted.fit(x_train, y_train, sample_weight=sample_weight, batch_size=64, epochs=2, shuffle=False,
                             verbose=0)
    # class_weight is sample_weight derived from the labels: the same training.
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-5)
    for a, b in zip(weighted.get_weights(), sample_weighted.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)

    # evaluate with sample_weight weighs each example's loss.
    probs = weighted.predict(x_test, verbose=0)
    losses = -np.log(np.clip(probs[np.arange(len(y_test)), y_test.astype(int)], 1e-7, 1))
    test_weights = np.where(y_test == 5, 3.0, 1.0)
    loss = weighted.evaluate(x_test, y_test, sample_weight=test_weights, batch_size=len(y_test), verbose=0)[0]
    # Keras's default reduction, SUM_OVER_BATCH_SIZE, divides the weighted sum by the number of examples.
    np.testing.assert_allclose(loss, np.sum(losses * test_weights) / len(y_test), rtol=1e-4)

    # A dataset of (x, y, sample_weight) triples.
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train, sample_weight)).shuffle(1024).batch(64)
    model = get_compiled_model()
    history = model.fit(train_dataset, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_multi_input_multi_output_with_callbacks(tmp_path):
    tf.keras.utils.set_random_seed(0)
    image_input = keras.Input(shape=(8, 8, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 5), name="ts_input")
    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)
    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)
    model = keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])

    rng = np.random.default_rng(0)
    img_data = rng.random(size=(200, 8, 8, 3)).astype("float32")
    ts_data = rng.random(size=(200, 6, 5)).astype("float32")
    score_targets = img_data.mean(axis=(1, 2, 3))[:, None]
    class_targets = np.eye(5, dtype="float32")[ts_data[:, :, 0].argmax(axis=1) % 5]

    model.compile(optimizer=keras.optimizers.RMSprop(1e-2),
                  loss={"score_output": keras.losses.MeanSquaredError(),
                        "class_output": keras.losses.CategoricalCrossentropy(from_logits=True)},
                  metrics={"score_output": [keras.metrics.MeanAbsolutePercentageError(),
                                            keras.metrics.MeanAbsoluteError()],
                           "class_output": [keras.metrics.CategoricalAccuracy()]},
                  loss_weights={"score_output": 2.0, "class_output": 1.0})
    history = model.fit({"img_input": img_data, "ts_input": ts_data},
                        {"score_output": score_targets, "class_output": class_targets},
                        batch_size=32, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "score_output_loss", "class_output_loss",
                                    "score_output_mean_absolute_percentage_error",
                                    "score_output_mean_absolute_error", "class_output_categorical_accuracy"}
    h = history.history
    np.testing.assert_allclose(h["loss"][-1], 2 * h["score_output_loss"][-1] + h["class_output_loss"][-1], rtol=1e-4)

    # No loss for the class output: only the score output is trained and reported.
    model.compile(optimizer=keras.optimizers.RMSprop(1e-2), loss=[keras.losses.MeanSquaredError(), None])
    history = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=32, epochs=1, verbose=0)
    assert sorted(history.history) == ["loss", "score_output_loss"]

    # Callbacks: EarlyStopping with min_delta/patience and ModelCheckpoint formatting val_loss into the path.
    (x_train, y_train), _ = load_digits(800, 10)
    model = get_compiled_model()
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=2, verbose=0),
        keras.callbacks.ModelCheckpoint(filepath=os.path.join(tmp_path, "mymodel_{epoch}_{val_loss:.2f}.keras"),
                                        save_best_only=True, monitor="val_loss", verbose=0),
    ]
    history = model.fit(x_train, y_train, epochs=30, batch_size=64, callbacks=callbacks, validation_split=0.2,
                        verbose=0)
    val_loss = history.history["val_loss"]
    # It stopped once val_loss had not improved by 1e-2 on the best for 2 epochs.
    stopped = len(val_loss)
    assert stopped < 30
    best = val_loss[0]
    wait = 0
    for epoch, value in enumerate(val_loss[1:], start=1):
        if value < best - 1e-2:
            best, wait = value, 0
        else:
            wait += 1
        if wait >= 2:
            assert epoch == stopped - 1
            break
    saved = sorted(os.listdir(tmp_path))
    best_epoch = int(np.argmin(val_loss)) + 1
    assert f"mymodel_{best_epoch}_{min(val_loss):.2f}.keras" in saved
    restored = keras.models.load_model(os.path.join(tmp_path, f"mymodel_{best_epoch}_{min(val_loss):.2f}.keras"))
    np.testing.assert_allclose(restored.evaluate(x_train[-160:], y_train[-160:], verbose=0)[0], min(val_loss),
                               rtol=1e-4)

    # A learning-rate schedule object as the optimizer's learning rate.
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
    model = get_uncompiled_model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    model.fit(x_train[:320], y_train[:320], batch_size=32, epochs=2, verbose=0)
    assert int(optimizer.iterations.numpy()) == 20
    np.testing.assert_allclose(float(lr_schedule(optimizer.iterations)), 0.1 * 0.5 ** 2, rtol=1e-6)
