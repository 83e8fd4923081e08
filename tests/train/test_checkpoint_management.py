"""CheckpointManager, the `checkpoint` state file (TensorFlow's format), readers and views."""

import os
import shutil

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def test_manager_keeps_max_to_keep_and_writes_tensorflows_state_file(tmp_path):
    v = tf.Variable(0.0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=v), str(tmp_path), max_to_keep=2)
    assert manager.latest_checkpoint is None and manager.restore_or_initialize() is None
    paths = []
    for value in (1.0, 2.0, 3.0):
        v.assign(value)
        paths.append(manager.save())
    assert [os.path.basename(p) for p in paths] == ["ckpt-1", "ckpt-2", "ckpt-3"]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-2.npz", "ckpt-3.npz"]
    assert manager.checkpoints == paths[1:] and manager.latest_checkpoint == paths[2]
    lines = (tmp_path / "checkpoint").read_text().splitlines()
    assert lines[:3] == ['model_checkpoint_path: "ckpt-3"', 'all_model_checkpoint_paths: "ckpt-2"',
                         'all_model_checkpoint_paths: "ckpt-3"']
    assert tf.train.latest_checkpoint(str(tmp_path)) == paths[2]
    v.assign(0.0)
    again = tf.train.CheckpointManager(tf.train.Checkpoint(v=v), str(tmp_path), max_to_keep=2)
    assert again.checkpoints == paths[1:] and again.restore_or_initialize() == paths[2]
    assert float(v.numpy()) == 3.0
    assert os.path.basename(again.save(checkpoint_number=10)) == "ckpt-10"
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-10.npz", "ckpt-3.npz"]


def test_state_file_written_by_tensorflow_is_read(tmp_path):
    shutil.copy(os.path.join(FIXTURES, "tf_checkpoint_state"), tmp_path / "checkpoint")
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == str(tmp_path / "ckpt-3")
    assert state.all_model_checkpoint_paths == [str(tmp_path / "ckpt-2"), str(tmp_path / "ckpt-3")]
    assert len(state.all_model_checkpoint_timestamps) == 2 and state.last_preserved_timestamp > 1.7e9
    assert tf.train.latest_checkpoint(str(tmp_path)) is None  # TensorFlow's own files are not featherflow's
    assert tf.train.get_checkpoint_state(str(tmp_path / "missing")) is None


def test_step_counter_interval_and_init_fn(tmp_path):
    step = tf.Variable(0, dtype="int64")
    calls = []
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), str(tmp_path), max_to_keep=None,
                                         step_counter=step, checkpoint_interval=5, init_fn=lambda: calls.append(1))
    assert manager.restore_or_initialize() is None and calls == [1]
    saved = []
    for i in range(12):
        step.assign(i)
        saved.append(manager.save() is not None)
    assert saved == [i in (0, 5, 10) for i in range(12)]
    assert manager.save(check_interval=False) is not None
    with pytest.raises(ValueError, match="max_to_keep"):
        tf.train.CheckpointManager(tf.train.Checkpoint(), str(tmp_path), max_to_keep=0)
    with pytest.raises(ValueError, match="step_counter"):
        tf.train.CheckpointManager(tf.train.Checkpoint(), str(tmp_path), max_to_keep=1, checkpoint_interval=2)


def test_readers_and_views(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")])
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), str(tmp_path), max_to_keep=1)
    manager.save()
    reader = tf.train.load_checkpoint(str(tmp_path))
    kernel = model.layers[0].get_weights()[0]
    np.testing.assert_array_equal(reader.get_tensor("model/layer-0/kernel"), kernel)
    assert reader.has_tensor("save_counter") and not reader.has_tensor("nope")
    assert reader.get_variable_to_shape_map()["model/layer-0/bias"] == [2]
    assert reader.get_variable_to_dtype_map()["model/layer-0/bias"] == np.float32
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path), "model/layer-0/kernel:0"), kernel)
    assert [name for name, _ in tf.train.list_variables(str(tmp_path))] == [
        "model/layer-0/bias", "model/layer-0/kernel", "save_counter"]
    with pytest.raises(ValueError, match="not found in checkpoint"):
        reader.get_tensor("model/missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.load_checkpoint(str(tmp_path / "empty"))
    view = tf.train.CheckpointView(manager.latest_checkpoint)
    root_children = view.children(0)
    assert sorted(root_children) == ["model", "save_counter"]
    layer_node = view.children(view.children(root_children["model"])["layer-0"])
    assert sorted(layer_node) == ["bias", "kernel"]
    ckpt = tf.train.Checkpoint(model=model)
    matched = view.match(ckpt)
    assert any(m is model.layers[0].kernel for m in matched.values())
    assert len(view.descendants()) == 6  # root, model, layer-0, bias, kernel, save_counter
    objects = tf.train.TrackableView(ckpt).descendants()
    assert any(o is model.layers[0].kernel for o in objects) and any(o is ckpt.save_counter for o in objects)


def test_checkpoints_iterator_yields_new_checkpoints(tmp_path):
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(1.0)), str(tmp_path), max_to_keep=1)
    first = manager.save()
    seen = list(tf.train.checkpoints_iterator(str(tmp_path), timeout=0))
    assert seen == [first]
