"""keras.callbacks: hook order, History, EarlyStopping, LR callbacks, CSVLogger, TerminateOnNaN, LambdaCallback."""

import csv

import numpy as np
import pytest

from featherflow import keras


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def small_model(lr=0.1, metrics=None):
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse", metrics=metrics)
    return model


def data(n=8):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2))
    return x, x.sum(axis=1, keepdims=True)


HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
         "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
         "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end"]


class Recorder(keras.callbacks.Callback):
    """Records every hook call (the train batch hooks are overridden, so on_batch_* are not called)."""

    def __init__(self):
        super().__init__()
        self.calls = []


def _make_hook(name):
    def hook(self, *args, logs=None):
        self.calls.append((name,) + tuple(a for a in args[:1] if isinstance(a, int)))

    return hook


for _name in HOOKS:
    setattr(Recorder, _name, _make_hook(_name))


def test_every_hook_in_keras_order():
    x, y = data(8)
    model = small_model()
    rec = Recorder()
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x[:4], y[:4]), callbacks=[rec], verbose=0)
    assert rec.calls == [
        ("on_train_begin",), ("on_epoch_begin", 0),
        ("on_train_batch_begin", 0), ("on_train_batch_end", 0),
        ("on_train_batch_begin", 1), ("on_train_batch_end", 1),
        ("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0), ("on_test_end",),
        ("on_epoch_end", 0), ("on_train_end",),
    ]
    rec.calls.clear()
    model.predict(x, batch_size=8, callbacks=[rec], verbose=0)
    assert rec.calls == [("on_predict_begin",), ("on_predict_batch_begin", 0), ("on_predict_batch_end", 0),
                         ("on_predict_end",)]


def test_every_hook_gets_a_dict_of_logs():
    # tf.keras passes {} where there are no logs yet: callbacks written for it call logs.get(...) / logs[k] = v
    kinds = {}

    class LogsKinds(keras.callbacks.Callback):
        pass

    def spy(name):
        def hook(self, *args):
            kinds.setdefault(name, type(args[-1]).__name__ if args else "missing")
        return hook

    for name in HOOKS:
        setattr(LogsKinds, name, spy(name))
    x, y = data(8)
    model = small_model()
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x, y), callbacks=[LogsKinds()], verbose=0)
    model.evaluate(x, y, callbacks=[LogsKinds()], verbose=0)
    model.predict(x, callbacks=[LogsKinds()], verbose=0)
    assert kinds == {name: "dict" for name in HOOKS}


def test_batch_logs_are_running_means_and_on_batch_end_is_the_train_alias():
    x, y = data(8)
    model = small_model(lr=0.0)
    w, b = [a.astype(np.float64) for a in model.get_weights()]
    per = ((x @ w + b - y) ** 2)[:, 0]
    seen = []

    class Batches(keras.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((batch, logs["loss"]))

    model.fit(x, y, batch_size=3, callbacks=[Batches()], shuffle=False, verbose=0)
    np.testing.assert_allclose([v for _, v in seen], [per[:3].mean(), per[:6].mean(), per.mean()], rtol=1e-5)
    assert [b for b, _ in seen] == [0, 1, 2]


def test_predict_batch_end_gets_the_outputs():
    x, _ = data(6)
    model = small_model()
    outputs = []
    cb = keras.callbacks.LambdaCallback(on_predict_batch_end=lambda batch, logs: outputs.append(logs["outputs"]))
    result = model.predict(x, batch_size=4, callbacks=[cb], verbose=0)
    np.testing.assert_array_equal(np.concatenate(outputs), result)


def test_stop_training_from_a_batch_hook():
    x, y = data(8)
    model = small_model()

    class StopAfterTwo(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    history = model.fit(x, y, batch_size=2, epochs=5, callbacks=[StopAfterTwo()], verbose=0)
    assert history.epoch == [0] and model.optimizer.iterations.numpy() == 2


def feed(callback, model, values, key="val_loss"):
    """Run the epoch hooks of ``callback`` with scripted monitor values; returns the epochs run."""
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        logs = {key: value}
        callback.on_epoch_end(epoch, logs)
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs


def test_early_stopping_patience_min_delta_mode_baseline_start():
    model = small_model()
    es = keras.callbacks.EarlyStopping(patience=2)
    assert feed(es, model, [1.0, 0.9, 0.95, 0.91, 0.5]) == 4 and es.stopped_epoch == 3 and es.best == 0.9
    es = keras.callbacks.EarlyStopping(patience=1, min_delta=0.2)
    assert feed(es, model, [1.0, 0.85, 0.7, 0.6]) == 2  # 0.85 is not 0.2 better than 1.0
    es = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=1)  # auto -> max
    assert feed(es, model, [0.5, 0.6, 0.55, 0.7], key="val_accuracy") == 3 and es.best == 0.6
    es = keras.callbacks.EarlyStopping(mode="max", patience=0)
    assert feed(es, model, [0.1, 0.05]) == 2
    es = keras.callbacks.EarlyStopping(patience=2, baseline=0.5)  # improvements that miss the baseline
    assert feed(es, model, [0.9, 0.8, 0.85, 0.86]) == 3
    es = keras.callbacks.EarlyStopping(patience=2)
    assert feed(es, model, [0.9, 0.8, 0.85, 0.86]) == 4
    es = keras.callbacks.EarlyStopping(patience=0, start_from_epoch=2)
    assert feed(es, model, [1.0, 2.0, 3.0, 4.0, 5.0]) == 4
    with pytest.warns(UserWarning, match="not available"):
        feed(keras.callbacks.EarlyStopping(monitor="val_missing"), model, [1.0])


def test_early_stopping_restores_best_weights(capsys):
    model = small_model()
    es = keras.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True, verbose=1)
    es.set_model(model)
    es.on_train_begin()
    snapshots = []
    for epoch, loss in enumerate([3.0, 1.0, 2.0, 2.5]):
        model.set_weights([np.full(w.shape, epoch, np.float32) for w in model.get_weights()])
        snapshots.append(model.get_weights())
        es.on_epoch_end(epoch, {"loss": loss})
        if model.stop_training:
            break
    es.on_train_end()
    assert es.stopped_epoch == 2 and es.best_epoch == 1
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), snapshots[1]))
    out = capsys.readouterr().out
    assert "Restoring model weights from the end of the best epoch: 2." in out and "Epoch 3: early stopping" in out


def test_early_stopping_inside_fit():
    x, y = data(8)
    model = small_model(lr=0.0)
    history = model.fit(x, y, epochs=10, callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=2)],
                        verbose=0)
    assert len(history.history["loss"]) == 3


def test_learning_rate_scheduler_sets_the_rate_used_by_the_update():
    x, y = data(4)
    model = small_model(lr=0.1)
    rates = []

    def schedule(epoch, lr):
        rates.append(lr)
        return 0.05 * (epoch + 1)

    w0, b0 = [a.astype(np.float64) for a in model.get_weights()]
    history = model.fit(x, y, batch_size=4, epochs=2, callbacks=[keras.callbacks.LearningRateScheduler(schedule)],
                        verbose=0)
    np.testing.assert_allclose(rates, [0.1, 0.05], rtol=1e-6)
    np.testing.assert_allclose(history.history["lr"], [0.05, 0.1], rtol=1e-6)
    w, b = w0, b0
    for lr in (0.05, 0.1):
        err = x @ w + b - y
        w, b = w - lr * 2 / 4 * x.T @ err, b - lr * 2 / 4 * err.sum(axis=0)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5)
    one_arg = keras.callbacks.LearningRateScheduler(lambda epoch: 0.01)
    model.fit(x, y, callbacks=[one_arg], verbose=0)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="should be float"):
        model.fit(x, y, callbacks=[keras.callbacks.LearningRateScheduler(lambda e, lr: "fast")], verbose=0)


def test_reduce_lr_on_plateau(capsys):
    model = small_model(lr=1.0)
    cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, cooldown=2, min_lr=0.2,
                                           verbose=1)
    cb.set_model(model)
    cb.on_train_begin()
    lrs = []
    for epoch, loss in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        logs = {"val_loss": loss}
        cb.on_epoch_end(epoch, logs)
        lrs.append(float(model.optimizer.learning_rate.numpy()))
        assert "lr" in logs
    # Reduce after 1 stale epoch, wait out the cooldown, reduce again; never below min_lr.
    np.testing.assert_allclose(lrs, [1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2], rtol=1e-6)
    assert "ReduceLROnPlateau reducing learning rate to 0.5." in capsys.readouterr().out
    with pytest.raises(ValueError, match="factor >= 1.0"):
        keras.callbacks.ReduceLROnPlateau(factor=1.5)
    acc = keras.callbacks.ReduceLROnPlateau(monitor="val_acc", patience=0, factor=0.1)
    acc.set_model(small_model(lr=1.0))
    acc.on_train_begin()
    acc.on_epoch_end(0, {"val_acc": 0.5})
    acc.on_epoch_end(1, {"val_acc": 0.6})  # improving accuracy (auto -> max): no reduction
    assert float(acc.model.optimizer.learning_rate.numpy()) == pytest.approx(1.0)


def test_csv_logger(tmp_path):
    x, y = data(8)
    path = tmp_path / "log.csv"
    model = small_model(metrics=["mae"])
    history = model.fit(x, y, epochs=2, callbacks=[keras.callbacks.CSVLogger(str(path))], verbose=0)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r[0] for r in rows[1:]] == ["0", "1"] and rows[1][3] == "NA"
    np.testing.assert_allclose([float(r[1]) for r in rows[1:]], history.history["loss"], rtol=1e-6)
    model.fit(x, y, epochs=1, callbacks=[keras.callbacks.CSVLogger(str(path), append=True)], verbose=0)
    rows = list(csv.reader(path.open()))
    assert len(rows) == 4 and rows[0][0] == "epoch" and rows[3][0] == "0"
    semi = tmp_path / "semi.csv"
    model.fit(x, y, epochs=1, validation_data=(x, y), verbose=0,
              callbacks=[keras.callbacks.CSVLogger(str(semi), separator=";")])
    assert semi.read_text().splitlines()[0] == "epoch;loss;mae;val_loss;val_mae"


def test_terminate_on_nan(capsys):
    x, y = data(8)
    model = small_model(lr=1e30)
    with np.errstate(all="ignore"):  # the diverging run overflows on purpose
        history = model.fit(x, y * 1e20, batch_size=2, epochs=3, callbacks=[keras.callbacks.TerminateOnNaN()],
                            verbose=0)
    assert len(history.history["loss"]) == 1
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_lambda_callback():
    x, y = data(4)
    model = small_model()
    events = []
    cb = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append("begin"),
        on_epoch_end=lambda epoch, logs: events.append(("epoch", epoch, sorted(logs))),
        on_batch_end=lambda batch, logs: events.append(("batch", batch)),
        on_train_end=lambda logs: events.append("end"),
        on_test_end=lambda logs: events.append("test_end"))
    model.fit(x, y, batch_size=2, epochs=1, callbacks=[cb], verbose=0)
    assert events == ["begin", ("batch", 0), ("batch", 1), ("epoch", 0, ["loss"]), "end"]
    model.evaluate(x, y, callbacks=[cb], verbose=0)
    assert events[-1] == "test_end"
    with pytest.raises(TypeError, match="unknown hook"):
        keras.callbacks.LambdaCallback(on_nothing=print)


def test_explicit_progbar_logger_and_history_objects(capsys):
    x, y = data(4)
    model = small_model()
    history = keras.callbacks.History()
    returned = model.fit(x, y, epochs=2, callbacks=[history, keras.callbacks.ProgbarLogger(count_mode="steps")],
                         verbose=0)
    assert returned is history and len(history.history["loss"]) == 2
    assert capsys.readouterr().out == ""  # the logger follows fit's verbose (0: silent)
    model.fit(x, y, epochs=2, callbacks=[keras.callbacks.ProgbarLogger(count_mode="steps")], verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and len(lines) == 4  # no second, automatic progress bar
    with pytest.raises(ValueError, match="Unknown `count_mode`"):
        keras.callbacks.ProgbarLogger(count_mode="epochs")


def test_saving_callbacks_are_reachable():
    assert keras.callbacks.ModelCheckpoint.__name__ == "ModelCheckpoint"
    assert issubclass(keras.callbacks.BackupAndRestore, keras.callbacks.Callback)
