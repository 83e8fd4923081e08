"""tf.saved_model (names, options, the errors of save/load), tf.types, tf.experimental, and tf.debugging's
traceback-filtering switches."""

import typing

import numpy as np
import pytest

import featherflow as tf


def test_saved_model_constants_are_tensorflows():
    sm = tf.saved_model
    assert (sm.SERVING, sm.TRAINING, sm.GPU, sm.TPU) == ("serve", "train", "gpu", "tpu")
    assert sm.DEFAULT_SERVING_SIGNATURE_DEF_KEY == "serving_default"
    assert (sm.SAVED_MODEL_FILENAME_PB, sm.SAVED_MODEL_FILENAME_PBTXT) == ("saved_model.pb", "saved_model.pbtxt")
    assert sm.PREDICT_METHOD_NAME == "tensorflow/serving/predict" and sm.SAVED_MODEL_SCHEMA_VERSION == 1
    options = sm.SaveOptions(function_aliases={"f": None}, experimental_variable_policy="save_variable_devices")
    assert options.experimental_variable_policy is sm.experimental.VariablePolicy.SAVE_VARIABLE_DEVICES
    assert sm.LoadOptions(allow_partial_checkpoint=True).allow_partial_checkpoint
    assert sm.Asset("vocab.txt").asset_path == "vocab.txt"


def test_saved_model_save_and_load_say_what_to_use(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    with pytest.raises(NotImplementedError, match=r'model.save\("model.keras"\)') as info:
        tf.saved_model.save(model, str(tmp_path / "export"))
    assert "tf.train.Checkpoint" in str(info.value) and "export_dir=" in str(info.value)
    assert not (tmp_path / "export").exists()
    assert not tf.saved_model.contains_saved_model(tmp_path)
    (tmp_path / "saved_model.pb").write_bytes(b"")
    assert tf.saved_model.contains_saved_model(str(tmp_path))
    with pytest.raises(NotImplementedError, match="holds a SavedModel written by TensorFlow"):
        tf.saved_model.load(str(tmp_path))


def test_types_are_annotations():
    tensor_like = tf.types.experimental.TensorLike
    assert tf.Tensor in typing.get_args(tensor_like) and np.ndarray in typing.get_args(tensor_like)
    assert issubclass(tf.types.experimental.ConcreteFunction, tf.types.experimental.Callable)
    with pytest.raises(TypeError):
        tf.types.experimental.Callable()  # abstract


def test_experimental_names():
    with tf.experimental.async_scope():
        total = tf.constant(1.0) + 2.0
    tf.experimental.async_clear_error()
    assert float(total) == 3.0
    assert tf.experimental.Optional is tf.data.experimental.Optional


def test_traceback_filtering_switches():
    assert tf.debugging.is_traceback_filtering_enabled()
    tf.debugging.disable_traceback_filtering()
    try:
        assert not tf.debugging.is_traceback_filtering_enabled()
    finally:
        tf.debugging.enable_traceback_filtering()
    assert tf.debugging.is_traceback_filtering_enabled()
