"""keras.io / tensorflow.org "Writing your own callbacks" guide.

A callback implementing every hook records the order fit/evaluate/predict call them in and the keys of their
`logs`; a `LossAndErrorPrintingCallback` reading `logs["loss"]` / `logs["mean_absolute_error"]`;
`EarlyStoppingAtMinLoss` with `self.model.stop_training` and `get_weights`/`set_weights` of the best epoch; a
`CustomLearningRateScheduler` reading `self.model.optimizer.learning_rate` and setting it with
`tf.keras.backend.set_value`; the built-in `LearningRateScheduler`, `LambdaCallback` and `CSVLogger`.
"""

import csv

import numpy as np

import featherflow as tf
from featherflow import keras


def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1, input_dim=784))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1), loss="mean_squared_error",
                  metrics=["mean_absolute_error"])
    return model


def get_data():
    rng = np.random.default_rng(0)
    x = rng.random((200, 784)).astype("float32")
    y = (x[:, :10].sum(axis=1) / 10).astype("float32")
    return x[:160], y[:160], x[160:], y[160:]


class CustomCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def _record(self, name, logs):
        self.calls.append((name, sorted(logs or {})))

    def on_train_begin(self, logs=None):
        self._record("train_begin", logs)

    def on_train_end(self, logs=None):
        self._record("train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._record(f"epoch_begin {epoch}", logs)

    def on_epoch_end(self, epoch, logs=None):
        self._record(f"epoch_end {epoch}", logs)

    def on_test_begin(self, logs=None):
        self._record("test_begin", logs)

    def on_test_end(self, logs=None):
        self._record("test_end", logs)

    def on_predict_begin(self, logs=None):
        self._record("predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._record("predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._record(f"train_batch_begin {batch}", logs)

    def on_train_batch_end(self, batch, logs=None):
        self._record(f"train_batch_end {batch}", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._record(f"test_batch_begin {batch}", logs)

    def on_test_batch_end(self, batch, logs=None):
        self._record(f"test_batch_end {batch}", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._record(f"predict_batch_begin {batch}", logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._record(f"predict_batch_end {batch}", logs)


def test_every_hook_in_order():
    tf.keras.utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = get_data()
    model = get_model()
    callback = CustomCallback()
    model.fit(x_train[:64], y_train[:64], batch_size=32, epochs=1, verbose=0, validation_split=0.5,
              callbacks=[callback])
    metrics = ["loss", "mean_absolute_error"]
    assert callback.calls == [
        ("train_begin", []),
        ("epoch_begin 0", []),
        ("train_batch_begin 0", []),
        ("train_batch_end 0", metrics),
        ("test_begin", []),
        ("test_batch_begin 0", []),
        ("test_batch_end 0", metrics),
        ("test_end", metrics),
        ("epoch_end 0", metrics + ["val_loss", "val_mean_absolute_error"]),
        ("train_end", metrics + ["val_loss", "val_mean_absolute_error"]),
    ]
    assert model.history.history.keys() == {"loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"}

    callback = CustomCallback()
    model.evaluate(x_test, y_test, batch_size=20, verbose=0, callbacks=[callback])
    assert [name for name, _ in callback.calls] == ["test_begin", "test_batch_begin 0", "test_batch_end 0",
                                                    "test_batch_begin 1", "test_batch_end 1", "test_end"]
    callback = CustomCallback()
    model.predict(x_test, batch_size=40, verbose=0, callbacks=[callback])
    assert callback.calls == [("predict_begin", []), ("predict_batch_begin 0", []),
                              ("predict_batch_end 0", ["outputs"]), ("predict_end", [])]


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.lines = []

    def on_train_batch_end(self, batch, logs=None):
        self.lines.append("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_test_batch_end(self, batch, logs=None):
        self.lines.append("Up to batch {}, the average loss is {:7.2f}.".format(batch, logs["loss"]))

    def on_epoch_end(self, epoch, logs=None):
        self.lines.append("The average loss for epoch {} is {:7.2f} and mean absolute error is {:7.2f}.".format(
            epoch, logs["loss"], logs["mean_absolute_error"]))


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """Stop training when the loss is at its min, i.e. the loss stops decreasing."""

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)


def test_logs_and_early_stopping_at_min_loss():
    tf.keras.utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = get_data()
    model = get_model()
    printer = LossAndErrorPrintingCallback()
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, verbose=0, callbacks=[printer])
    # Batch logs hold running means over the epoch so far (3 batches: 64, 64, 32); the last is the epoch's value.
    assert printer.lines[3] == "The average loss for epoch 0 is {:7.2f} and mean absolute error is {:7.2f}.".format(
        history.history["loss"][0], history.history["mean_absolute_error"][0])
    assert printer.lines[2] == "Up to batch 2, the average loss is {:7.2f}.".format(history.history["loss"][0])
    assert len(printer.lines) == 8
    printer.lines.clear()
    loss, _ = model.evaluate(x_test, y_test, batch_size=20, verbose=0, callbacks=[printer])
    assert printer.lines[-1] == f"Up to batch 1, the average loss is {loss:7.2f}."

    # RMSprop(0.1) on a 784-input linear model overshoots: the loss soon stops falling.
    model = get_model()
    stopper = EarlyStoppingAtMinLoss(patience=2)
    history = model.fit(x_train, y_train, batch_size=64, steps_per_epoch=2, epochs=30, verbose=0,
                        callbacks=[stopper])
    losses = history.history["loss"]
    assert len(losses) < 30 and stopper.stopped_epoch == len(losses) - 1
    best_epoch = int(np.argmin(losses))
    assert len(losses) - 1 - best_epoch == 2  # patience epochs without improvement
    for restored, best in zip(model.get_weights(), stopper.best_weights):
        np.testing.assert_array_equal(restored, best)


class CustomLearningRateScheduler(keras.callbacks.Callback):
    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "lr"):
            raise ValueError('Optimizer must have a "lr" attribute.')
        lr = float(tf.keras.backend.get_value(self.model.optimizer.learning_rate))
        scheduled_lr = self.schedule(epoch, lr)
        tf.keras.backend.set_value(self.model.optimizer.lr, scheduled_lr)
        self.seen.append(float(self.model.optimizer.learning_rate.numpy()))


LR_SCHEDULE = [(3, 0.05), (6, 0.01), (9, 0.005), (12, 0.001)]


def lr_schedule(epoch, lr):
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


def test_learning_rate_schedulers_and_logging_callbacks(tmp_path):
    tf.keras.utils.set_random_seed(0)
    x_train, y_train, _, _ = get_data()
    model = get_model()
    scheduler = CustomLearningRateScheduler(lr_schedule)
    model.fit(x_train, y_train, batch_size=64, steps_per_epoch=1, epochs=8, verbose=0, callbacks=[scheduler])
    np.testing.assert_allclose(scheduler.seen, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.01, 0.01], rtol=1e-6)

    model = get_model()
    epochs_seen = []
    callbacks = [
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr),
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs_seen.append((epoch, logs["lr"]))),
        keras.callbacks.CSVLogger(str(tmp_path / "training.log")),
    ]
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0, callbacks=callbacks)
    # LearningRateScheduler writes the rate into the logs as "lr".
    np.testing.assert_allclose([lr for _, lr in epochs_seen], [0.1, 0.05, 0.025], rtol=1e-6)
    np.testing.assert_allclose(history.history["lr"], [0.1, 0.05, 0.025], rtol=1e-6)
    with open(tmp_path / "training.log", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    # Without validation data the val_ columns are there, "NA" (so a later validated epoch fits the header).
    assert set(rows[0]) == {"epoch", "loss", "mean_absolute_error", "lr", "val_loss", "val_mean_absolute_error",
                            "val_lr"}
    assert rows[0]["val_loss"] == "NA"
    np.testing.assert_allclose([float(row["loss"]) for row in rows], history.history["loss"], rtol=1e-5)
