"""tf.train.Checkpoint: save/write/restore by object paths, deferred restore, statuses, PythonState, EMA."""

import gc
import os
import warnings

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(4, activation="relu")
        self.blocks = [keras.layers.Dense(3), keras.layers.Dense(3)]
        self.out = keras.layers.Dense(1)

    def call(self, x):
        x = self.hidden(x)
        for block in self.blocks:
            x = block(x)
        return self.out(x)


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")


def _trained():
    keras.utils.set_random_seed(1)
    x, y = _data()
    model = Net()
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return model


def test_save_numbers_files_and_restores_values(tmp_path):
    v = tf.Variable([1.0, 2.0])
    w = tf.Variable(3, dtype="int64")
    ckpt = tf.train.Checkpoint(v=v, step=w)
    first = ckpt.save(str(tmp_path / "ckpt"))
    v.assign([5.0, 6.0])
    second = ckpt.save(str(tmp_path / "ckpt"))
    assert (os.path.basename(first), os.path.basename(second)) == ("ckpt-1", "ckpt-2")
    assert os.path.isfile(first + ".npz") and int(ckpt.save_counter.numpy()) == 2
    assert sorted(dict(tf.train.list_variables(first))) == ["save_counter", "step", "v"]
    v.assign([0.0, 0.0])
    w.assign(0)
    ckpt.restore(first).assert_consumed()
    assert v.numpy().tolist() == [1.0, 2.0] and int(w.numpy()) == 3 and int(ckpt.save_counter.numpy()) == 1
    assert ckpt.write(str(tmp_path / "plain")) == str(tmp_path / "plain")
    ckpt.read(str(tmp_path / "plain")).assert_consumed()


def test_model_and_optimizer_restore_into_a_fresh_program(tmp_path):
    model = _trained()
    path = tf.train.Checkpoint(model=model, optimizer=model.optimizer).save(str(tmp_path / "ckpt"))
    keys = dict(tf.train.list_variables(path))
    assert {"model/hidden/kernel", "model/blocks/0/kernel", "model/blocks/1/bias", "model/out/kernel",
            "optimizer/iter", "optimizer/vars/1"} <= set(keys)
    assert keys["model/hidden/kernel"] == [3, 4]

    fresh = Net()  # not built yet: the layers have no variables
    fresh.compile(keras.optimizers.Adam(0.01), "mse")
    status = tf.train.Checkpoint(model=fresh, optimizer=fresh.optimizer).restore(path)
    with pytest.raises(AssertionError, match="Unresolved object"):
        status.assert_consumed()
    status.assert_existing_objects_matched()
    status.assert_nontrivial_match()
    x, y = _data()
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))  # the first call restores
    assert int(fresh.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    fresh.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)  # the slots were restored at build
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    status.assert_consumed()


def test_sequential_deferred_and_root_argument(tmp_path):
    x, _ = _data()
    built = keras.Sequential([keras.layers.Dense(2), keras.layers.Dense(1)])
    built(x)
    path = tf.train.Checkpoint(model=built).write(str(tmp_path / "seq"))
    assert "model/layer-0/kernel" in dict(tf.train.list_variables(path))
    fresh = keras.Sequential([keras.layers.Dense(2), keras.layers.Dense(1)])
    tf.train.Checkpoint(model=fresh).restore(path)
    np.testing.assert_array_equal(fresh(x).numpy(), built(x).numpy())
    rooted = tf.train.Checkpoint(root=built).write(str(tmp_path / "rooted"))
    assert "layer-1/bias" in dict(tf.train.list_variables(rooted))
    other = keras.Sequential([keras.layers.Dense(2), keras.layers.Dense(1)])
    other(x)
    tf.train.Checkpoint(root=other).restore(rooted).assert_consumed()
    np.testing.assert_array_equal(other(x).numpy(), built(x).numpy())


def test_objects_attached_after_restore_get_their_values(tmp_path):
    x, _ = _data()
    model = Net()
    model(x)
    path = tf.train.Checkpoint(step=tf.Variable(7), model=model).save(str(tmp_path / "ckpt"))
    empty = tf.train.Checkpoint()
    status = empty.restore(path)
    empty.step = tf.Variable(0)  # created after the restore, as TensorFlow's deferred restoration allows
    assert int(empty.step.numpy()) == 7
    empty.model = Net()  # attached unbuilt: restored on its first call
    np.testing.assert_array_equal(empty.model(x).numpy(), model(x).numpy())
    status.assert_consumed()


def test_partial_restores_warn_unless_expect_partial(tmp_path):
    path = tf.train.Checkpoint(a=tf.Variable(1.0), b=tf.Variable(2.0)).write(str(tmp_path / "two"))
    only_a = tf.Variable(0.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tf.train.Checkpoint(a=only_a).restore(path)
        gc.collect()
    assert float(only_a.numpy()) == 1.0
    assert any("could not be found in the restored object" in str(w.message) for w in caught)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tf.train.Checkpoint(a=tf.Variable(0.0)).restore(path).expect_partial()
        gc.collect()
    assert not any("could not be found" in str(w.message) for w in caught)
    status = tf.train.Checkpoint(a=tf.Variable(0.0), c=tf.Variable(0.0)).restore(path).expect_partial()
    with pytest.raises(AssertionError, match="no checkpointed value"):
        status.assert_existing_objects_matched()


def test_errors(tmp_path):
    path = tf.train.Checkpoint(v=tf.Variable([1.0, 2.0])).write(str(tmp_path / "c"))
    with pytest.raises(ValueError, match="incompatible tensor with shape"):
        tf.train.Checkpoint(v=tf.Variable([1.0, 2.0, 3.0])).restore(path)
    with pytest.raises(FileNotFoundError, match="Failed to find any matching files"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).restore(str(tmp_path / "nothing"))
    with pytest.raises(ValueError, match="trackable object"):
        tf.train.Checkpoint(v=3.0)
    status = tf.train.Checkpoint(v=tf.Variable(1.0)).restore(None)
    with pytest.raises(AssertionError, match="save_path=None"):
        status.assert_consumed()
    ckpt = tf.train.Checkpoint()
    ckpt.added = tf.Variable(7.0)  # dependencies can be added after construction
    assert "added" in dict(tf.train.list_variables(ckpt.write(str(tmp_path / "added"))))


def test_python_state_and_moving_average(tmp_path):
    class Cursor(tf.train.experimental.PythonState):
        def __init__(self):
            self.position = 0

        def serialize(self):
            return str(self.position)

        def deserialize(self, string_value):
            self.position = int(string_value)

    cursor, weight = Cursor(), tf.Variable(0.0)
    ema = tf.train.ExponentialMovingAverage(decay=0.9)
    ema.apply([weight])
    for value in (10.0, 20.0):
        weight.assign(value)
        ema.apply([weight])
    # shadow: 0 -> 0.9 * 0 + 0.1 * 10 = 1 -> 0.9 * 1 + 0.1 * 20 = 2.9
    assert float(ema.average(weight).numpy()) == pytest.approx(2.9)
    cursor.position = 42
    path = tf.train.Checkpoint(cursor=cursor, ema=ema).save(str(tmp_path / "state"))
    restored_cursor, other_weight = Cursor(), tf.Variable(20.0)
    other_ema = tf.train.ExponentialMovingAverage(decay=0.9)
    other_ema.apply([other_weight])
    tf.train.Checkpoint(cursor=restored_cursor, ema=other_ema).restore(path).assert_consumed()
    assert restored_cursor.position == 42 and float(other_ema.average(other_weight).numpy()) == pytest.approx(2.9)


def test_moving_average_num_updates_and_zero_debias():
    v = tf.Variable(4.0)
    ema = tf.train.ExponentialMovingAverage(0.999, num_updates=0)
    ema.apply([v])
    v.assign(0.0)
    ema.apply([v])  # decay min(0.999, 1/10) = 0.1: 4 - 0.9 * (4 - 0) = 0.4
    assert float(ema.average(v).numpy()) == pytest.approx(0.4)
    debiased = tf.train.ExponentialMovingAverage(0.5, zero_debias=True)
    u = tf.Variable(4.0)
    debiased.apply([u])
    u.assign(8.0)
    debiased.apply([u])  # TensorFlow 2.21 gives 6.0: a variable's average starts at its value, never debiased
    assert float(debiased.average(u).numpy()) == 6.0
    assert debiased.average_name(u).endswith("/ExponentialMovingAverage")
    assert list(debiased.variables_to_restore().values()) == [u]
