"""Each cause found when real Keras 3 / tf_keras 2.x files were tried, and the unknown-config-key policy."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import real_keras_models

from featherflow import keras
from featherflow.keras.saving import keras_compat
from featherflow.keras.saving.errors import UnsupportedConfigError

h5py = pytest.importorskip("h5py")
REAL = Path(__file__).parent / "fixtures" / "real_keras"
POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def dense_entry(**extra):
    config = {"name": "probe", "trainable": True, "dtype": POLICY, "units": 2, **extra}
    return {"module": "keras.layers", "class_name": "Dense", "config": config, "registered_name": None,
            "build_config": {"input_shape": [None, 3]}}


def rewrite_keras(source: Path, target: Path, edit) -> Path:
    """A copy of a .keras archive whose config.json went through ``edit(config)``."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def find_layer(config, name):
    return next(entry for entry in config["config"]["layers"] if entry["name"] == name)


# -- tf_keras 2.x .h5 ----------------------------------------------------------------------------------
def test_tf_keras_h5_custom_prefixed_optimizer_is_the_builtin():
    with h5py.File(REAL / "mlp-tfk-model.h5") as handle:
        assert '"Custom>Adam"' in handle.attrs["training_config"]
    model = keras.models.load_model(REAL / "mlp-tfk-model.h5")
    assert type(model.optimizer) is keras.optimizers.Adam
    assert int(model.optimizer.iterations.numpy()) == 2


def test_tf_keras_metric_state_groups_are_skipped():
    with h5py.File(REAL / "mlp-tfk.weights.h5") as handle:
        assert sorted(handle["metrics"]) == ["mean", "mean_metric_wrapper"]
        kernel = handle["layers/dense/vars/0"][()]
    model = real_keras_models.mlp(keras)
    model.load_weights(REAL / "mlp-tfk.weights.h5")
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), kernel)


@pytest.mark.parametrize(("entry", "expected"), [
    ({"name": "accuracy", "dtype": "float32", "fn": "sparse_categorical_accuracy"}, "accuracy"),
    ({"name": "reg_mae", "dtype": "float32", "fn": "mean_absolute_error"}, "mae"),
    ({"name": "cls_accuracy", "dtype": "float32", "fn": "sparse_categorical_accuracy"}, "accuracy"),
    ({"name": "my_error", "dtype": "float32", "fn": "mean_squared_error"}, "mean_squared_error"),
    ({"name": "mse", "dtype": "float32"}, "mse"),  # no function recorded: the name says which
])
def test_mean_metric_wrapper_becomes_the_metric_name(entry, expected):
    assert keras_compat.normalize({"class_name": "MeanMetricWrapper", "config": entry}) == expected


def test_mean_metric_wrapper_without_a_known_function_is_refused():
    with pytest.raises(UnsupportedConfigError, match="'fn'"):
        keras_compat.normalize({"class_name": "MeanMetricWrapper", "config": {"name": "custom_thing"}})


def test_tf_keras_per_output_metric_lists_compile():
    with h5py.File(REAL / "multi_io-tfk-model.h5") as handle:
        metrics = json.loads(handle.attrs["training_config"])["metrics"]
    assert isinstance(metrics, list) and all(isinstance(m, list) for m in metrics)
    model = keras.models.load_model(REAL / "multi_io-tfk-model.h5")
    ref = np.load(REAL / "multi_io-tfk.npz")
    x = {"num": ref["x_step/num"], "aux": ref["x_step/aux"]}
    y = {"reg": ref["y_step/reg"], "cls": ref["y_step/cls"]}
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert {"cls_accuracy", "reg_mae", "reg_root_mean_squared_error"} <= set(logs)
    expected_mae = np.mean(np.abs(model.predict(x, verbose=0)["reg"] - y["reg"]))
    assert logs["reg_mae"] == pytest.approx(expected_mae, rel=1e-5)


def test_tf_keras_nested_model_calls_numbered_from_one():
    with zipfile.ZipFile(REAL / "nested-tfk.keras") as archive:
        config = json.loads(archive.read("config.json"))
    head_inputs = find_layer(config, "join")["inbound_nodes"][0]
    assert [ref[1] for ref in head_inputs] == [1, 2]  # the encoder's two calls, after its own node 0
    model = keras.models.load_model(REAL / "nested-tfk.keras")
    joined = model.get_layer("join")._inbound_nodes[0].input_tensors
    assert [t._keras_history[0].name for t in joined] == ["encoder", "encoder"]
    assert joined[0]._keras_history[1] != joined[1]._keras_history[1]  # its first call, then its second


# -- Keras 3 -------------------------------------------------------------------------------------------
def test_keras3_dtype_policy_loads_without_compiling():
    model = keras.models.load_model(REAL / "cnn-k3.keras", compile=False)
    assert model.optimizer is None
    assert all(layer.dtype == "float32" for layer in model.layers)


def test_dtype_policy_and_batch_shape_are_translated():
    entry = {"module": "keras.layers", "class_name": "InputLayer",
             "config": {"batch_shape": [None, 5], "dtype": "float32", "sparse": False, "ragged": False,
                        "name": "x", "optional": False}}
    assert keras_compat.normalize(entry)["config"] == {"batch_input_shape": [None, 5], "dtype": "float32",
                                                       "sparse": False, "ragged": False, "name": "x"}
    assert keras_compat.normalize(dense_entry())["config"]["dtype"] == "float32"


def test_mixed_precision_policy_is_the_policy_name():
    mixed = dict(POLICY, config={"name": "mixed_float16"})
    assert keras_compat.normalize(dense_entry(dtype=mixed))["config"]["dtype"] == "mixed_float16"
    layer = keras.layers.deserialize(dense_entry(dtype=mixed))
    assert layer.dtype == "float32"  # featherflow computes mixed policies in their variable dtype


def test_quantized_policy_is_refused():
    quantized = {"module": "keras", "class_name": "QuantizedDTypePolicy", "config": {"name": "int8_from_float32"}}
    with pytest.raises(UnsupportedConfigError, match="int8_from_float32"):
        keras_compat.normalize(dense_entry(dtype=quantized))


def test_keras3_dict_form_nodes_and_op_nodes_rebuild_the_graph():
    with zipfile.ZipFile(REAL / "text-k3.keras") as archive:
        config = json.loads(archive.read("config.json"))
    assert find_layer(config, "not_equal_6")["module"] == "keras.src.ops.numpy"
    bidirectional = find_layer(config, "bidirectional")["inbound_nodes"][0]
    assert bidirectional["kwargs"]["mask"]["config"]["keras_history"][0] == "not_equal_6"
    model = keras.models.load_model(REAL / "text-k3.keras")
    op = model.get_layer("not_equal_6")
    assert type(op).__name__ == "KerasOperation" and op.op == "NotEqual"
    tokens = np.array([[3, 4, 0, 0, 0, 0]], "int32")
    np.testing.assert_array_equal(op(tokens, 0).numpy(), tokens != 0)


HARMLESS = [
    ("quantization_config", None), ("input_axes", None), ("output_axes", None), ("seed", 7), ("lora_rank", None),
]


@pytest.mark.parametrize(("key", "value"), HARMLESS)
def test_harmless_unknown_layer_keys_are_dropped(key, value):
    layer = keras.layers.deserialize(dense_entry(**{key: value}))
    assert layer.units == 2 and key not in layer.get_config()


@pytest.mark.parametrize(("class_name", "config"), [
    ("BatchNormalization", {"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99, "synchronized": False}),
    ("LayerNormalization", {"rms_scaling": False}),
])
def test_harmless_normalization_keys_are_dropped(class_name, config):
    layer = keras.layers.deserialize({"module": "keras.layers", "class_name": class_name,
                                      "config": {"name": "norm", **config}})
    assert type(layer).__name__ == class_name


def test_harmless_optimizer_keys_are_dropped():
    entry = {"module": "keras.optimizers", "class_name": "Adam",
             "config": {"name": "adam", "learning_rate": 0.01, "loss_scale_factor": None,
                        "gradient_accumulation_steps": None, "jit_compile": True, "is_legacy_optimizer": False}}
    optimizer = keras.saving.deserialize_keras_object(entry)
    assert type(optimizer) is keras.optimizers.Adam
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.01)


def layer_config(config, class_name):
    """The ``config`` dict of the first entry of ``class_name`` anywhere in a model config."""
    if isinstance(config, dict):
        if config.get("class_name") == class_name and isinstance(config.get("config"), dict):
            return config["config"]
        values = config.values()
    elif isinstance(config, list):
        values = config
    else:
        return None
    for value in values:
        found = layer_config(value, class_name)
        if found is not None:
            return found
    return None


@pytest.mark.parametrize(("file", "class_name", "key", "value"), [
    ("cnn-k3.keras", "BatchNormalization", "renorm", True),
    ("multi_io-k3.keras", "LayerNormalization", "rms_scaling", True),
    ("mlp-k3.keras", "Dense", "quantization_config", {"mode": "int8"}),
    ("mlp-k3.keras", "Dense", "brand_new_option", 3),
])
def test_unknown_key_that_changes_results_is_refused_naming_key_layer_and_version(tmp_path, file, class_name, key,
                                                                                   value):
    path = rewrite_keras(REAL / file, tmp_path / "newer.keras",
                         lambda config: layer_config(config, class_name).__setitem__(key, value))
    with pytest.raises(UnsupportedConfigError) as info:
        keras.models.load_model(path)
    message = str(info.value)
    assert key in message and "Keras 3.15.1" in message and f"({class_name})" in message


def test_unknown_key_error_names_tf_keras_for_its_files(tmp_path):
    path = rewrite_keras(REAL / "cnn-tfk.keras", tmp_path / "odd.keras",
                         lambda config: layer_config(config, "Conv2D").__setitem__("brand_new_option", 1))
    with pytest.raises(UnsupportedConfigError, match="'conv2d' \\(Conv2D\\).*'brand_new_option'=1.*tf.keras 2.21.0"):
        keras.models.load_model(path)


def test_unknown_optimizer_key_with_a_value_is_refused(tmp_path):
    def edit(config):
        config["compile_config"]["optimizer"]["config"]["gradient_accumulation_steps"] = 4

    path = rewrite_keras(REAL / "mlp-k3.keras", tmp_path / "accumulating.keras", edit)
    with pytest.raises(UnsupportedConfigError, match="'gradient_accumulation_steps'=4.*Keras 3.15.1"):
        keras.models.load_model(path)
    assert keras.models.load_model(path, compile=False).optimizer is None  # the model itself still loads


def test_keras3_learning_rate_variable_is_restored(tmp_path):
    """Keras 3 saves the current learning rate (a callback may have lowered it) as optimizer variable 1."""
    target = tmp_path / "lowered.keras"
    shutil.copy(REAL / "mlp-k3.keras", target)
    with zipfile.ZipFile(target) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    weights = tmp_path / "model.weights.h5"
    weights.write_bytes(members["model.weights.h5"])
    with h5py.File(weights, "a") as handle:
        assert handle["optimizer/vars/1"][()] == pytest.approx(0.01)
        handle["optimizer/vars/1"][()] = 0.0025
    members["model.weights.h5"] = weights.read_bytes()
    metadata = json.loads(members["metadata.json"])
    metadata.pop("weights_sha256", None)
    members["metadata.json"] = json.dumps(metadata).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    model = keras.models.load_model(target)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.0025)
    assert int(model.optimizer.iterations.numpy()) == 2


# -- silently wrong before ------------------------------------------------------------------------------
def test_bidirectional_from_keras3_legacy_h5_takes_forward_weights_first():
    model = keras.models.load_model(REAL / "text-k3-model.h5")
    layer = model.get_layer("bidirectional")
    with h5py.File(REAL / "text-k3-model.h5") as handle:
        group = handle["model_weights/bidirectional"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        forward_kernel = group[names[0]][()]
    assert names[0].startswith("bidirectional/forward_")
    np.testing.assert_array_equal(layer.forward_layer.cell.kernel.numpy(), forward_kernel)
    assert not layer.forward_layer.go_backwards and layer.backward_layer.go_backwards
    assert [w is v for w, v in zip(layer.weights, layer.forward_layer.weights + layer.backward_layer.weights)] == \
        [True] * 6


def test_bidirectional_optimizer_slots_follow_the_directions():
    model = keras.models.load_model(REAL / "text-k3.keras")
    layer = model.get_layer("bidirectional")
    with zipfile.ZipFile(REAL / "text-k3.keras") as archive, h5py.File(
            __import__("io").BytesIO(archive.read("model.weights.h5"))) as handle:
        saved = [handle[f"optimizer/vars/{i}"][()] for i in range(len(handle["optimizer/vars"]))]
    # Keras 3: iterations, learning_rate, then (m, v) per trainable variable in order
    index = next(i for i, v in enumerate(model.trainable_variables) if v is layer.backward_layer.cell.kernel)
    np.testing.assert_array_equal(model.optimizer.get_slot(layer.backward_layer.cell.kernel, "m").numpy(),
                                  saved[2 + 2 * index])


# -- TensorFlow formats ------------------------------------------------------------------------------------
def test_savedmodel_folder_gets_what_to_do():
    with pytest.raises(ValueError, match="SavedModel folder.*tf.keras.models.load_model.*model.save"):
        keras.models.load_model(REAL / "tf-savedmodel")


@pytest.mark.parametrize("suffix", ["", ".index", ".data-00000-of-00001"])
def test_tensorflow_checkpoint_gets_what_to_do(suffix):
    model = keras.Sequential([keras.Input((2, 3)), keras.layers.Flatten(), keras.layers.Dense(8),
                              keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="TensorFlow checkpoint.*save_weights\\('model.weights.h5'\\)"):
        model.load_weights(str(REAL / "tf-checkpoint") + suffix)


def test_a_file_that_merely_ends_in_index_is_not_a_checkpoint(tmp_path):
    (tmp_path / "w.index").write_bytes(b"not a tensor bundle" * 4)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(FileNotFoundError, match="No weights file found"):
        model.load_weights(str(tmp_path / "w"))


# -- weights paths ------------------------------------------------------------------------------------------
def test_weights_paths_in_tf_keras_spelling_load():
    """tf.keras 2.x names ConvLSTM2D's group conv_lst_m2d (Keras 3: conv_lstm2d) and MultiHeadAttention's
    sub-layers _query_dense (Keras 3: query_dense); both spellings load."""
    from featherflow.keras.saving.weights_io import assign_weights, collect_weights, keras3_snake_case

    assert keras3_snake_case("ConvLSTM2D") == "conv_lstm2d" and keras3_snake_case("PReLU") == "p_re_lu"
    inputs = keras.Input((2, 4, 4, 1))
    features = keras.layers.ConvLSTM2D(2, 3)(inputs)
    tokens = keras.layers.Reshape((2, 4))(keras.layers.Flatten()(features))
    outputs = keras.layers.MultiHeadAttention(num_heads=1, key_dim=2)(tokens, tokens)
    model = keras.Model(inputs, outputs)
    saved = collect_weights(model, include_optimizer=False)
    assert "layers/conv_lstm2d/cell/vars/0" in saved and "layers/multi_head_attention/query_dense/vars/0" in saved
    tf_keras_spelling = {key.replace("conv_lstm2d", "conv_lst_m2d").replace("/query_dense/", "/_query_dense/"): value
                         + 1.0 for key, value in saved.items()}
    assign_weights(model, tf_keras_spelling)
    np.testing.assert_array_equal(model.get_layer(index=1).weights[0].numpy(),
                                  saved["layers/conv_lstm2d/cell/vars/0"] + 1.0)
