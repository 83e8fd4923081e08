"""ModelCheckpoint and BackupAndRestore inside one process (the SIGKILL tests are in test_saving_kill.py)."""

import os

import numpy as np
import pytest

from featherflow import keras

X = np.random.default_rng(0).uniform(-1, 1, (24, 4)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32") + 0.1).astype("float32")


def _model(dropout=0.25, lr=0.05, seed=None):
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dropout(dropout, seed=seed), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="mse", metrics=["mae"])
    return model


class _Crash(Exception):
    pass


class _CrashAt(keras.callbacks.Callback):
    """Raise at the end of an epoch or a batch, like a process dying there."""

    def __init__(self, epoch=None, batch=None):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.batch is not None and self.current == self.epoch and batch == self.batch:
            raise _Crash()

    def on_epoch_end(self, epoch, logs=None):
        if self.batch is None and epoch == self.epoch:
            raise _Crash()


# -- ModelCheckpoint ----------------------------------------------------------------------------------------
def test_checkpoint_formats_epoch_and_logs_into_the_path(tmp_path):
    keras.utils.set_random_seed(0)
    model = _model()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    history = model.fit(X, Y, epochs=3, batch_size=8, validation_split=0.25, verbose=0,
                        callbacks=[keras.callbacks.ModelCheckpoint(pattern)])
    expected = [f"ckpt-{e + 1:02d}-{v:.2f}.keras" for e, v in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path)) == sorted(expected)
    last = keras.models.load_model(tmp_path / expected[-1])
    np.testing.assert_array_equal(last.predict(X, verbose=0), model.predict(X, verbose=0))


def test_save_best_only_saves_only_improvements(tmp_path):
    keras.utils.set_random_seed(0)
    model = _model(dropout=0.0, lr=0.01)
    pattern = str(tmp_path / "best-{epoch}.weights.h5")
    checkpoint = keras.callbacks.ModelCheckpoint(pattern, monitor="loss", mode="max", save_best_only=True,
                                                 save_weights_only=True)
    history = model.fit(X, Y, epochs=4, batch_size=24, shuffle=False, verbose=0, callbacks=[checkpoint])
    losses = history.history["loss"]
    best, expected = -np.inf, []
    for epoch, loss in enumerate(losses):
        if loss > best:
            best = loss
            expected.append(f"best-{epoch + 1}.weights.h5")
    assert sorted(os.listdir(tmp_path)) == sorted(expected) and expected
    assert checkpoint.best == max(losses)


def test_save_best_only_with_min_mode_and_threshold(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    model = _model(dropout=0.0, lr=0.01)
    path = str(tmp_path / "best.keras")
    checkpoint = keras.callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True, verbose=1,
                                                 initial_value_threshold=-1.0)
    model.fit(X, Y, epochs=2, batch_size=24, verbose=0, callbacks=[checkpoint])
    assert not os.path.exists(path)  # no loss beats a threshold of -1
    assert "loss did not improve from -1.00000" in capsys.readouterr().out
    checkpoint = keras.callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True, verbose=1)
    model.fit(X, Y, epochs=2, batch_size=24, verbose=0, callbacks=[checkpoint])
    assert os.path.exists(path) and "saving model to" in capsys.readouterr().out


def test_save_weights_only_loads_back(tmp_path):
    keras.utils.set_random_seed(0)
    model = _model()
    path = str(tmp_path / "w.weights.h5")
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(path, save_weights_only=True)])
    other = _model()
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_integer_save_freq_counts_batches_across_epochs(tmp_path):
    keras.utils.set_random_seed(0)
    model = _model()
    pattern = str(tmp_path / "{epoch:02d}-{batch:02d}.weights.npz")
    model.fit(X, Y, epochs=2, batch_size=6, verbose=0,  # 4 batches per epoch
              callbacks=[keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True, save_freq=3)])
    # 3 and 6 batches seen: epoch 1 batch 3, epoch 2 batch 2 (and the `checkpoint` state file naming the last)
    assert sorted(os.listdir(tmp_path)) == ["01-03.weights.npz", "02-02.weights.npz", "checkpoint"]


def test_checkpoint_format_weights_are_found_by_latest_checkpoint(tmp_path):
    """As in tf.keras, weights saved to a path that is not HDF5 (TensorFlow's checkpoint format there) update the
    directory's `checkpoint` state file: tf.train.latest_checkpoint finds the newest, which load_weights reads."""
    import featherflow as tf

    keras.utils.set_random_seed(0)
    model = _model()
    directory = tmp_path / "training"
    assert tf.train.latest_checkpoint(str(directory)) is None
    pattern = str(directory / "cp-{epoch:04d}.ckpt")
    model.fit(X, Y, epochs=3, batch_size=8, verbose=0,
              callbacks=[keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True)])
    latest = tf.train.latest_checkpoint(str(directory))
    assert latest == str(directory / "cp-0003.ckpt")
    other = _model()
    other.load_weights(latest)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    # The state file holds the path relative to its directory (TensorFlow's layout), so the folder can move.
    assert 'model_checkpoint_path: "cp-0003.ckpt"' in (directory / "checkpoint").read_text()
    moved = tmp_path / "moved"
    os.rename(directory, moved)
    assert tf.train.latest_checkpoint(str(moved)) == str(moved / "cp-0003.ckpt")

    # An explicit save_weights becomes the latest; HDF5 weights leave the state file alone, as in tf.keras.
    model.save_weights(str(moved / "manual"))
    assert tf.train.latest_checkpoint(str(moved)) == str(moved / "manual")
    model.save_weights(str(moved / "w.weights.h5"))
    assert tf.train.latest_checkpoint(str(moved)) == str(moved / "manual")


def test_checkpoint_argument_handling(tmp_path):
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.ModelCheckpoint("x.keras", save_freq="sometimes")
    with pytest.warns(UserWarning, match="mode 'bogus' is unknown"):
        checkpoint = keras.callbacks.ModelCheckpoint("x.keras", mode="bogus", monitor="val_accuracy")
    assert checkpoint.monitor_op is np.greater  # auto: accuracy is maximised
    assert keras.callbacks.ModelCheckpoint("x.keras").monitor_op is np.less
    model = _model()
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(
            str(tmp_path / "x.keras"), save_best_only=True)])
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(
            str(tmp_path / "{nothing}.keras"))])
    os.mkdir(tmp_path / "adir")
    with pytest.raises(OSError, match="non-directory filepath"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(str(tmp_path / "adir"))])


# -- BackupAndRestore ---------------------------------------------------------------------------------------
def _run(backup_dir, epochs=5, crash=None, save_freq="epoch", shuffle=True, batch_size=5, layer_seed=None):
    """One 'script run': seed, build, fit with BackupAndRestore (and maybe a crash)."""
    keras.utils.set_random_seed(42)
    model = _model(seed=layer_seed)
    callbacks = [keras.callbacks.BackupAndRestore(backup_dir, save_freq=save_freq)]
    if crash is not None:
        callbacks.append(crash)
    history = model.fit(X, Y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, verbose=0,
                        validation_split=0.2, callbacks=callbacks)
    return model, history


def _reference(epochs=5, shuffle=True, batch_size=5, layer_seed=None):
    keras.utils.set_random_seed(42)
    model = _model(seed=layer_seed)
    history = model.fit(X, Y, epochs=epochs, batch_size=batch_size, shuffle=shuffle, verbose=0,
                        validation_split=0.2)
    return model, history


@pytest.mark.parametrize("crash_epoch", [0, 2, 3])
def test_backup_and_restore_resumes_after_a_crash_at_epoch_end(tmp_path, crash_epoch):
    reference, ref_history = _reference()
    backup = str(tmp_path / "backup")
    with pytest.raises(_Crash):
        _run(backup, crash=_CrashAt(epoch=crash_epoch))
    assert os.path.exists(os.path.join(backup, "latest_backup.zip"))
    model, history = _run(backup)
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations.numpy()) == int(reference.optimizer.iterations.numpy())
    assert len(history.history["loss"]) == 5 - (crash_epoch + 1)  # only the remaining epochs ran
    np.testing.assert_allclose(history.history["val_loss"], ref_history.history["val_loss"][crash_epoch + 1:],
                               rtol=1e-6)
    assert not os.path.exists(backup)  # delete_checkpoint=True: the next run starts fresh


@pytest.mark.parametrize("crash_batch", [0, 2, 4])
def test_backup_every_n_batches_resumes_mid_epoch(tmp_path, crash_batch):
    reference, _ = _reference(batch_size=4)  # 19 training samples: 5 batches per epoch
    backup = str(tmp_path / "backup")
    with pytest.raises(_Crash):
        _run(backup, crash=_CrashAt(epoch=2, batch=crash_batch), save_freq=2, batch_size=4)
    model, _ = _run(backup, save_freq=2, batch_size=4)
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations.numpy()) == int(reference.optimizer.iterations.numpy())


def test_layer_owned_generators_are_restored(tmp_path):
    """A Dropout with its own seeded generator resumes its noise stream exactly."""
    reference, _ = _reference(layer_seed=5)
    backup = str(tmp_path / "backup")
    with pytest.raises(_Crash):
        _run(backup, crash=_CrashAt(epoch=1), layer_seed=5)
    model, _ = _run(backup, layer_seed=5)
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_backup_kept_when_delete_checkpoint_is_false_and_reused(tmp_path):
    backup = str(tmp_path / "backup")
    keras.utils.set_random_seed(42)
    model = _model()
    model.fit(X, Y, epochs=2, verbose=0,
              callbacks=[keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)])
    assert os.listdir(backup) == ["latest_backup.zip"]
    keras.utils.set_random_seed(42)
    again = _model()
    history = again.fit(X, Y, epochs=2, verbose=0,
                        callbacks=[keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)])
    assert history.history == {} or len(history.history.get("loss", [])) == 0  # nothing left to train
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_backup_and_restore_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        keras.callbacks.BackupAndRestore(str(tmp_path), save_freq=0)


def test_stale_temporary_files_of_a_killed_save_are_removed(tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    stale = backup / ".latest_backup.zip.abc123.fftmp"
    stale.write_bytes(b"half a file")
    keras.utils.set_random_seed(0)
    _model().fit(X, Y, epochs=1, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(str(backup))])
    assert not stale.exists()
