"""fit/evaluate/predict and the *_on_batch methods against independent NumPy computations."""

import io
import sys

import numpy as np
import pytest

from featherflow import keras


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def linear_model(n_in=2, lr=0.1, metrics=None, optimizer=None):
    model = keras.Sequential([keras.Input(shape=(n_in,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer or keras.optimizers.SGD(lr), loss="mse", metrics=metrics)
    return model


def numpy_sgd_epochs(w, b, x, y, lr, batch_size, epochs):
    """Mini-batch SGD on mean squared error in float64; returns weights and per-epoch mean losses."""
    losses = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            err = xb @ w + b - yb
            total += float((err ** 2).mean()) * len(xb)
            count += len(xb)
            w = w - lr * 2.0 / err.size * xb.T @ err
            b = b - lr * 2.0 / err.size * err.sum(axis=0)
        losses.append(total / count)
    return w, b, losses


def data(n=10, n_in=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_in))
    y = x @ np.arange(1.0, n_in + 1)[:, None] + 0.5 + 0.1 * rng.normal(size=(n, 1))
    return x, y


def test_fit_is_minibatch_sgd_with_a_partial_last_batch():
    x, y = data()
    model = linear_model()
    w0, b0 = [a.astype(np.float64) for a in model.get_weights()]
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    w, b, losses = numpy_sgd_epochs(w0, b0, x, y, 0.1, 4, 3)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-4)
    assert history.epoch == [0, 1, 2] and history.params == {"verbose": 0, "epochs": 3, "steps": 3}
    assert model.history is history


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = data(n=10)
    model = linear_model(lr=0.0)
    w, b = [a.astype(np.float64) for a in model.get_weights()]
    history = model.fit(x, y, validation_split=0.2, epochs=2, shuffle=True, verbose=0)
    train_loss = float(((x[:8] @ w + b - y[:8]) ** 2).mean())
    val_loss = float(((x[8:] @ w + b - y[8:]) ** 2).mean())
    np.testing.assert_allclose(history.history["loss"], [train_loss] * 2, rtol=1e-5)
    np.testing.assert_allclose(history.history["val_loss"], [val_loss] * 2, rtol=1e-5)
    with pytest.raises(ValueError, match="not sufficient to split"):
        model.fit(x[:1], y[:1], validation_split=0.5, verbose=0)


def test_validation_data_and_freq():
    x, y = data(n=8)
    model = linear_model(lr=0.0)
    w, b = [a.astype(np.float64) for a in model.get_weights()]
    xv, yv = data(n=5, seed=1)
    val_loss = float(((xv @ w + b - yv) ** 2).mean())
    history = model.fit(x, y, validation_data=(xv, yv), epochs=4, validation_freq=2, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"], [val_loss] * 2, rtol=1e-5)
    history = model.fit(x, y, validation_data=(xv, yv, np.ones(5)), epochs=4, validation_freq=[1, 4], verbose=0)
    assert len(history.history["val_loss"]) == 2 and len(history.history["loss"]) == 4
    with pytest.raises(ValueError, match="validation_freq"):
        model.fit(x, y, validation_data=(xv, yv), validation_freq="2", verbose=0)


def test_shuffle_is_seeded_and_bit_identical():
    x, y = data(n=64, n_in=3)

    def run(seed):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dropout(0.3), keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        history = model.fit(x, y, batch_size=8, epochs=3, verbose=0)
        return model.get_weights(), history.history["loss"]

    w1, h1 = run(7)
    w2, h2 = run(7)
    w3, _ = run(8)
    assert h1 == h2 and all(np.array_equal(a, b) for a, b in zip(w1, w2))
    assert not all(np.array_equal(a, b) for a, b in zip(w1, w3))


def test_shuffle_changes_batch_order_but_not_the_data():
    x = np.arange(12.0).reshape(12, 1)
    seen = []

    class Recorder(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(1)

        def call(self, inputs):
            return self.d(inputs)

        def train_step(self, batch):
            seen.append(np.asarray(batch[0].numpy()[:, 0]))
            return super().train_step(batch)

    model = Recorder()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, x, batch_size=5, epochs=2, shuffle=True, verbose=0)
    epoch1, epoch2 = np.concatenate(seen[:3]), np.concatenate(seen[3:])
    assert [len(s) for s in seen] == [5, 5, 2, 5, 5, 2]
    assert sorted(epoch1) == list(range(12)) and sorted(epoch2) == list(range(12))
    assert list(epoch1) != list(range(12)) and list(epoch1) != list(epoch2)
    seen.clear()
    model.fit(x, x, batch_size=5, epochs=1, shuffle=False, verbose=0)
    assert list(np.concatenate(seen)) == list(range(12))
    seen.clear()
    model.fit(x, x, batch_size=5, epochs=1, shuffle="batch", verbose=0)
    assert [sorted(s) for s in seen] == [list(range(5)), list(range(5, 10)), [10, 11]]


def test_steps_per_epoch_streams_across_epochs():
    x = np.arange(10.0).reshape(10, 1)
    sizes = []

    class Recorder(keras.Sequential):
        def train_step(self, batch):
            sizes.append(len(batch[0].numpy()))
            return super().train_step(batch)

    model = Recorder([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, x, batch_size=4, epochs=3, steps_per_epoch=2, shuffle=False, verbose=0)
    assert sizes == [4, 4, 2, 4, 4, 2] and len(history.history["loss"]) == 3


def test_initial_epoch_and_resume_counter():
    x, y = data()
    model = linear_model()
    history = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert history.epoch == [3, 4] and len(history.history["loss"]) == 2

    class Resume(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.model._initial_epoch = 2  # what BackupAndRestore sets when it restores a backup

    history = model.fit(x, y, epochs=4, callbacks=[Resume()], verbose=0)
    assert history.epoch == [2, 3]


def test_class_weight_and_sample_weight_scale_each_sample_loss():
    x = np.array([[1.0], [2.0], [3.0], [4.0]])
    labels = np.array([0, 1, 1, 0])
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    probs = model.predict(x, verbose=0).astype(np.float64)
    per_sample = -np.log(probs[np.arange(4), labels])
    history = model.fit(x, labels, class_weight={0: 1.0, 1: 3.0}, batch_size=4, verbose=0)
    weights = np.array([1.0, 3.0, 3.0, 1.0])
    # Keras's default reduction divides the weighted sum by the number of samples.
    np.testing.assert_allclose(history.history["loss"][0], (weights * per_sample).sum() / 4, rtol=1e-5)
    hits = (probs.argmax(axis=1) == labels).astype(np.float64)
    np.testing.assert_allclose(history.history["accuracy"][0], hits.mean(), rtol=1e-6)
    np.testing.assert_allclose(history.history["weighted_accuracy"][0], (weights * hits).sum() / weights.sum(),
                               rtol=1e-6)
    sw = np.array([0.5, 0.0, 2.0, 1.0])
    result = model.evaluate(x, labels, sample_weight=sw, verbose=0, return_dict=True)
    np.testing.assert_allclose(result["loss"], (sw * per_sample).sum() / 4, rtol=1e-5)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(x, labels, class_weight={0: 1.0, 2: 1.0}, verbose=0)


def test_history_keys_follow_the_metric_names_given():
    x, y = np.random.default_rng(0).normal(size=(8, 3)), np.array([0, 1, 2, 0, 1, 2, 0, 1])
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x, y, validation_data=(x, y), verbose=0)
    assert list(history.history) == ["loss", "acc", "val_loss", "val_acc"]
    assert model.metrics_names == ["loss", "acc"]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy", "mae"])
    history = model.fit(x, y, verbose=0)
    assert list(history.history) == ["loss", "accuracy", "mae"]


def test_evaluate_return_types():
    x, y = data(n=6)
    model = linear_model(metrics=["mae"])
    w, b = [a.astype(np.float64) for a in model.get_weights()]
    err = x @ w + b - y
    loss, mae = model.evaluate(x, y, batch_size=4, verbose=0)
    np.testing.assert_allclose([loss, mae], [(err ** 2).mean(), np.abs(err).mean()], rtol=1e-5)
    assert isinstance(loss, float)
    assert model.evaluate(x, y, verbose=0, return_dict=True).keys() == {"loss", "mae"}
    plain = linear_model()
    assert isinstance(plain.evaluate(x, y, verbose=0), float)


def test_predict_batches_concatenate_and_accept_many_sources():
    x, _ = data(n=70, n_in=2)
    model = linear_model()
    w, b = model.get_weights()
    expected = x @ w.astype(np.float64) + b
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(x, batch_size=7, verbose=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(x.tolist(), verbose=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict((x[i:i + 20] for i in range(0, 70, 20)), verbose=0), expected,
                               rtol=1e-5, atol=1e-6)
    assert model.predict(x[:1], verbose=0).dtype == np.float32
    np.testing.assert_allclose(model.predict_on_batch(x[:3]), expected[:3], rtol=1e-5, atol=1e-6)


def test_train_on_batch_and_test_on_batch():
    x, y = data(n=5)
    model = linear_model(lr=0.1, metrics=["mae"])
    w0, b0 = [a.astype(np.float64) for a in model.get_weights()]
    err = x @ w0 + b0 - y
    loss, mae = model.train_on_batch(x, y)
    np.testing.assert_allclose([loss, mae], [(err ** 2).mean(), np.abs(err).mean()], rtol=1e-5)
    w1, b1, _ = numpy_sgd_epochs(w0, b0, x, y, 0.1, 5, 1)
    np.testing.assert_allclose(model.get_weights()[0], w1, rtol=1e-5, atol=1e-6)
    err1 = x @ w1 + b1 - y
    logs = model.test_on_batch(x, y, return_dict=True)
    np.testing.assert_allclose(logs["loss"], (err1 ** 2).mean(), rtol=1e-5)
    # Without resetting, the running means cover both batches.
    model.train_on_batch(x, y, reset_metrics=True)
    two = model.test_on_batch(x, y, reset_metrics=False, return_dict=True)
    assert np.isfinite(two["loss"])


def test_generators_sequences_and_tuples():
    x, y = data(n=12)
    sw = np.linspace(0.5, 1.5, 12)
    model = linear_model(lr=0.0)
    w, b = [a.astype(np.float64) for a in model.get_weights()]
    per = ((x @ w + b - y) ** 2)[:, 0]

    def gen():
        for i in range(0, 12, 4):
            yield x[i:i + 4], y[i:i + 4], sw[i:i + 4]

    history = model.fit(gen(), verbose=0)
    batch_losses = [(sw[i:i + 4] * per[i:i + 4]).sum() / 4 for i in range(0, 12, 4)]
    np.testing.assert_allclose(history.history["loss"], [np.mean(batch_losses)], rtol=1e-5)

    class Batches(keras.utils.Sequence):
        def __init__(self):
            self.epochs_ended = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[i * 4:(i + 1) * 4], y[i * 4:(i + 1) * 4]

        def on_epoch_end(self):
            self.epochs_ended += 1

    seq = Batches()
    history = model.fit(seq, epochs=2, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [per.mean()] * 2, rtol=1e-5)
    assert seq.epochs_ended == 2
    np.testing.assert_allclose(model.evaluate(seq, verbose=0), per.mean(), rtol=1e-5)

    def endless():
        while True:
            yield x[:4], y[:4]

    history = model.fit(endless(), steps_per_epoch=2, epochs=3, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [per[:4].mean()] * 3, rtol=1e-5)
    with pytest.raises(ValueError, match="`y` argument is not supported"):
        model.fit(gen(), y, verbose=0)


def test_generator_running_out_warns_and_stops():
    x, y = data(n=8)
    model = linear_model()
    batches = iter([(x[:4], y[:4]), (x[4:], y[4:])])
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(batches, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1


def test_dict_inputs_by_name_and_multi_output_losses():
    a = keras.Input(shape=(2,), name="a")
    b = keras.Input(shape=(1,), name="b")
    joined = keras.layers.Concatenate()([a, b])
    reg = keras.layers.Dense(1, name="reg")(joined)
    cls = keras.layers.Dense(3, activation="softmax", name="cls")(joined)
    model = keras.Model({"a": a, "b": b}, [reg, cls])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=["mse", "sparse_categorical_crossentropy"],
                  loss_weights=[2.0, 0.5], metrics={"cls": ["accuracy"]})
    rng = np.random.default_rng(5)
    xa, xb = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    y_reg, y_cls = rng.normal(size=(6, 1)), np.array([0, 1, 2, 2, 1, 0])
    pred_reg, pred_cls = model.predict({"a": xa, "b": xb}, verbose=0)
    mse = ((pred_reg.astype(np.float64) - y_reg) ** 2).mean()
    ce = -np.log(pred_cls.astype(np.float64)[np.arange(6), y_cls]).mean()
    history = model.fit({"a": xa, "b": xb}, {"reg": y_reg, "cls": y_cls}, batch_size=6, verbose=0)
    assert list(history.history) == ["loss", "reg_loss", "cls_loss", "cls_accuracy"]
    np.testing.assert_allclose(history.history["reg_loss"][0], mse, rtol=1e-5)
    np.testing.assert_allclose(history.history["cls_loss"][0], ce, rtol=1e-5)
    np.testing.assert_allclose(history.history["loss"][0], 2.0 * mse + 0.5 * ce, rtol=1e-5)
    results = model.evaluate({"a": xa, "b": xb}, [y_reg, y_cls], verbose=0)
    assert len(results) == 4 and model.metrics_names == ["loss", "reg_loss", "cls_loss", "cls_accuracy"]
    with pytest.raises(ValueError, match="one entry per model output"):
        model.compile(optimizer="sgd", loss=["mse"])
        model.fit({"a": xa, "b": xb}, [y_reg, y_cls], verbose=0)


def test_regularization_losses_join_the_loss():
    x, y = data(n=4)
    model = keras.Sequential([keras.Input(shape=(2,)),
                              keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(0.5))])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    w, b = [a.astype(np.float64) for a in model.get_weights()]
    expected = ((x @ w + b - y) ** 2).mean() + 0.5 * (w ** 2).sum()
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-5)
    history = model.fit(x, y, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)


def test_custom_train_step_logs_are_what_it_returns():
    class Custom(keras.Sequential):
        def train_step(self, data):
            result = super().train_step(data)
            result["twice_loss"] = 2 * float(result["loss"])
            return result

    x, y = data(n=4)
    model = Custom([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    history = model.fit(x, y, batch_size=4, verbose=0)
    np.testing.assert_allclose(history.history["twice_loss"][0], 2 * history.history["loss"][0], rtol=1e-6)


def test_errors_are_clear():
    x, y = data(n=6)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    with pytest.raises(RuntimeError, match="You must compile your model before training/testing"):
        model.fit(x, y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        model.evaluate(x, y, verbose=0)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous:\n  x sizes: 6\n  y sizes: 5\nMake sure all "
                                         r"arrays contain the same number of samples."):
        model.fit(x, y[:5], verbose=0)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"`x` contains 1 NaN or infinite value\(s\) .*at index \(3, 1\)"):
        model.fit(bad, y, verbose=0)
    with pytest.raises(ValueError, match="`y` contains 1 NaN or infinite"):
        model.evaluate(x, np.where(np.arange(6)[:, None] == 2, np.inf, y), verbose=0)
    with pytest.raises(ValueError, match="non-empty"):
        model.fit(x[:0], y[:0], verbose=0)
    with pytest.raises(TypeError, match="metrics"):
        model.compile(optimizer="sgd", loss="mse", metrics="accuracy")
    with pytest.raises(TypeError, match="Invalid keyword argument"):
        model.compile(optimizer="sgd", loss="mse", foo=1)
    classifier = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(3, activation="softmax")])
    classifier.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"label value of 3 which is outside the valid range of \[0, 3\)"):
        classifier.fit(x, np.array([0, 1, 2, 3, 0, 1]), verbose=0)
    no_loss = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    no_loss.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss found"):
        no_loss.fit(x, y, verbose=0)


def test_verbose_modes_print_like_tf_keras(capsys):
    x, y = data(n=8)
    model = linear_model()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, batch_size=4, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[1].startswith("2/2 - ") and " - loss: " in lines[1]
    assert lines[1].endswith("/step") and "/epoch" in lines[1] and len(lines) == 4
    model.fit(x, y, batch_size=4, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out  # captured output is not a terminal: plain lines
    assert out.startswith("2/2 [==============================] - ") and "Epoch" not in out
    model.evaluate(x, y, verbose="auto")
    assert capsys.readouterr().out.startswith("1/1 [==============================]")
    model.predict(x[:1])
    assert capsys.readouterr().out.startswith("1/1 [==============================]")


def test_progress_survives_a_console_that_cannot_encode(monkeypatch):
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    monkeypatch.setattr(sys, "stdout", stream)

    def score(y_true, y_pred):
        return keras.metrics.mean_absolute_error(y_true, y_pred)

    score.__name__ = "score_\u00b5"  # a metric whose name ASCII cannot print
    x, y = data(n=4)
    model = linear_model(metrics=[score])
    model.fit(x, y, epochs=2, verbose=1)
    stream.flush()
    text = raw.getvalue().decode("ascii")
    assert "score_?" in text and "Epoch 2/2" in text


def test_generator_validation_and_unknown_length_progress(capsys):
    x, y = data(n=12)
    model = linear_model(lr=0.0)
    w, b = [a.astype(np.float64) for a in model.get_weights()]
    per = ((x @ w + b - y) ** 2)[:, 0]

    def batches():
        for i in range(0, 12, 4):
            yield x[i:i + 4], y[i:i + 4]

    history = model.fit(batches(), validation_data=batches(), validation_steps=2, verbose=1)
    np.testing.assert_allclose(history.history["val_loss"], [per[:8].mean()], rtol=1e-5)
    out = capsys.readouterr().out
    assert "3/3 [" in out  # the unknown number of steps is learnt by the end of the epoch
    np.testing.assert_allclose(model.evaluate(batches(), steps=1, verbose=0), per[:4].mean(), rtol=1e-5)


def test_single_output_list_is_unwrapped_and_intermediate_functional_training():
    inp = keras.Input(shape=(2,))
    out = keras.layers.Dense(1)(inp)
    model = keras.Model(inp, [out])
    assert model.predict(np.ones((3, 2)), verbose=0).shape == (3, 1)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x, y = data(n=8)
    w0, b0 = [a.astype(np.float64) for a in model.get_weights()]
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    w, b, _ = numpy_sgd_epochs(w0, b0, x, y, 0.1, 8, 2)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5, atol=1e-6)


def test_frozen_layers_are_not_trained():
    x, y = data(n=8)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(3, name="frozen"),
                              keras.layers.Dense(1, name="trained")])
    model.get_layer("frozen").trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    frozen_before = model.get_layer("frozen").get_weights()
    trained_before = model.get_layer("trained").get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(frozen_before, model.get_layer("frozen").get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(trained_before[0], model.get_layer("trained").get_weights()[0])


def test_integer_inputs_reach_an_embedding_unchanged():
    model = keras.Sequential([keras.Input(shape=(3,), dtype="int32"), keras.layers.Embedding(20, 2),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    tokens = np.array([[1, 2, 19], [0, 5, 7]])
    table = model.layers[0].get_weights()[0]
    kernel, bias = model.layers[2].get_weights()
    expected = table[tokens].reshape(2, -1) @ kernel + bias
    np.testing.assert_allclose(model.predict(tokens, verbose=0), expected, rtol=1e-5, atol=1e-6)
    history = model.fit(tokens, np.ones((2, 1)), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_class_weight_does_not_weigh_the_validation_split():
    x = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    labels = np.array([0, 1, 1, 0, 1])
    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    probs = model.predict(x, verbose=0).astype(np.float64)
    per_sample = -np.log(probs[np.arange(5), labels])
    history = model.fit(x, labels, class_weight={0: 1.0, 1: 10.0}, validation_split=0.2, batch_size=4, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][0], per_sample[4], rtol=1e-5)
    np.testing.assert_allclose(history.history["loss"][0], (np.array([1, 10, 10, 1]) * per_sample[:4]).mean(),
                               rtol=1e-5)


def test_batch_size_is_refused_for_sources_that_batch_themselves():
    x, y = data(n=4)
    model = linear_model()
    with pytest.raises(ValueError, match="`batch_size` argument must not be specified"):
        model.fit(((x, y) for _ in range(2)), batch_size=2, verbose=0)
    # fit's own batch_size does not reach a validation generator
    history = model.fit(x, y, batch_size=2, validation_data=((x, y) for _ in range(3)), validation_steps=1, verbose=0)
    assert "val_loss" in history.history
