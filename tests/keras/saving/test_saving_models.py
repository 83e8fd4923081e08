"""Whole models: Sequential, functional, subclassed and nested models; custom objects; weights files;
JSON; clone_model; legacy .h5 and directory formats; Lambda code and safe_mode; atomic save."""

import json
import os
import warnings
import zipfile

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras
from featherflow.keras import saving
from featherflow.keras.saving import object_registration, weights_formats
from featherflow.keras.saving.errors import InvalidArchiveError, UnsafeModelError


@pytest.fixture
def clean_registry():
    before = dict(object_registration._GLOBAL_CUSTOM_OBJECTS)
    names = dict(object_registration._GLOBAL_CUSTOM_NAMES)
    yield
    object_registration._GLOBAL_CUSTOM_OBJECTS.clear()
    object_registration._GLOBAL_CUSTOM_OBJECTS.update(before)
    object_registration._GLOBAL_CUSTOM_NAMES.clear()
    object_registration._GLOBAL_CUSTOM_NAMES.update(names)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(wa, wb))


def _continue_identically(model, loaded, x, y, epochs=2):
    keras.utils.set_random_seed(11)
    history_a = model.fit(x, y, epochs=epochs, batch_size=4, verbose=0).history
    keras.utils.set_random_seed(11)
    history_b = loaded.fit(x, y, epochs=epochs, batch_size=4, verbose=0).history
    assert _same_weights(model, loaded)
    for key in history_a:
        np.testing.assert_allclose(history_a[key][-1], history_b[key][-1], rtol=1e-6)


def _mlp():
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dropout(0.2), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_sequential_save_load_predict_and_continue_training(tmp_path):
    model = _mlp()
    x, y = _rand(16, 4), np.arange(16) % 3
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(loaded.optimizer.iterations.numpy()) == 8
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6)
    _continue_identically(model, loaded, x, y)


def test_archive_layout_matches_keras(tmp_path):
    model = _mlp()
    model.fit(_rand(8, 4), np.arange(8) % 3, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    archive = zipfile.ZipFile(tmp_path / "m.keras")
    assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    config = json.loads(archive.read("config.json"))
    assert config["class_name"] == "Sequential" and config["module"] == "keras.models"
    assert config["compile_config"]["loss"] == "sparse_categorical_crossentropy"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    metadata = json.loads(archive.read("metadata.json"))
    assert metadata["keras_version"] == "2.12.0" and "date_saved" in metadata
    h5py = pytest.importorskip("h5py")
    import io

    with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as weights:
        assert weights["layers/dense/vars/0"].shape == (4, 8)  # Dense kernel (in, out), Keras's path
        assert weights["layers/dense_1/vars/1"].shape == (3,)
        assert int(weights["optimizer/vars/0"][()]) == 1  # iterations


def test_functional_multi_input_output(tmp_path):
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    shared = keras.layers.Dense(4, activation="tanh", name="shared")
    merged = keras.layers.Concatenate()([shared(keras.layers.Dense(4)(a)), shared(keras.layers.Dense(4)(b))])
    out1 = keras.layers.Dense(1, name="reg")(merged)
    out2 = keras.layers.Dense(2, activation="softmax", name="cls")(merged)
    model = keras.Model({"a": a, "b": b}, [out1, out2])
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss=["mse", "sparse_categorical_crossentropy"],
                  loss_weights=[0.5, 1.0], metrics=[["mae"], ["accuracy"]])
    x = {"a": _rand(8, 3), "b": _rand(8, 2, seed=1)}
    y = [_rand(8, 1, seed=2), np.arange(8) % 2]
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras")
    for p, q in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0)):
        np.testing.assert_array_equal(p, q)
    assert loaded.get_layer("shared") is not None and len(loaded.get_layer("shared")._inbound_nodes) >= 2
    _continue_identically(model, loaded, x, y)


def test_nested_models(tmp_path):
    inner = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4), keras.layers.BatchNormalization()],
                             name="inner")
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inner(inputs)))
    model.compile(optimizer="rmsprop", loss="mse")
    x, y = _rand(8, 3), _rand(8, 1, seed=3)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "n.keras")
    loaded = keras.models.load_model(tmp_path / "n.keras")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert isinstance(loaded.layers[1], keras.Sequential)
    _continue_identically(model, loaded, x, y)


def test_subclassed_registered_model_and_custom_layer(tmp_path, clean_registry):
    @saving.register_keras_serializable(package="Tests")
    class Scale(keras.layers.Layer):
        def __init__(self, init=1.0, **kwargs):
            super().__init__(**kwargs)
            self.init = init

        def build(self, input_shape):
            self.scale = self.add_weight(name="scale", shape=(input_shape[-1],),
                                         initializer=keras.initializers.Constant(self.init))

        def call(self, x):
            return x * self.scale

        def get_config(self):
            return {**super().get_config(), "init": self.init}

    @saving.register_keras_serializable(package="Tests")
    class Net(keras.Model):
        def __init__(self, hidden=5, **kwargs):
            super().__init__(**kwargs)
            self.hidden = hidden
            self.body = keras.layers.Dense(hidden, activation="relu")
            self.scale = Scale(0.5)
            self.head = keras.layers.Dense(1)

        def call(self, x):
            return self.head(self.scale(self.body(x)))

        def get_config(self):
            return {"hidden": self.hidden, "name": self.name}

    model = Net(hidden=6)
    model.compile(optimizer="adam", loss="mse")
    x, y = _rand(8, 3), _rand(8, 1, seed=4)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "s.keras")
    loaded = keras.models.load_model(tmp_path / "s.keras")
    assert type(loaded) is Net and loaded.hidden == 6
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    _continue_identically(model, loaded, x, y)


def test_unregistered_custom_objects_need_custom_objects(tmp_path):
    class Offset(keras.layers.Layer):
        def call(self, x):
            return x + 1.0

    def my_loss(y_true, y_pred):
        return ff.reduce_mean(ff.square(y_true - y_pred), axis=-1)

    def my_metric(y_true, y_pred):
        return ff.reduce_mean(ff.abs(y_true - y_pred), axis=-1)

    model = keras.Sequential([keras.Input(shape=(2,)), Offset(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss=my_loss, metrics=[my_metric])
    x, y = _rand(6, 2), _rand(6, 1, seed=5)
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "c.keras"
    model.save(path)
    with pytest.raises(TypeError, match="Could not locate class 'Offset'"):
        keras.models.load_model(path)
    with pytest.raises(TypeError, match="Could not locate function 'my_loss'"):
        keras.models.load_model(path, custom_objects={"Offset": Offset})
    loaded = keras.models.load_model(path, custom_objects={"Offset": Offset, "my_loss": my_loss,
                                                           "my_metric": my_metric})
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), loaded.evaluate(x, y, verbose=0), rtol=1e-6)
    plain = keras.models.load_model(path, custom_objects={"Offset": Offset}, compile=False)
    assert plain.optimizer is None
    np.testing.assert_array_equal(model.predict(x, verbose=0), plain.predict(x, verbose=0))


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5", "w.npz", "checkpoint_without_extension"])
def test_save_and_load_weights(tmp_path, name):
    if name.endswith("h5"):
        pytest.importorskip("h5py")
    model = _mlp()
    x, y = _rand(8, 4), np.arange(8) % 3
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / name
    model.save_weights(path)
    other = _mlp()
    other.load_weights(path)
    assert _same_weights(model, other)
    assert int(other.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    _continue_identically(model, other, x, y, epochs=1)


def test_load_weights_mismatch_leaves_model_unchanged(tmp_path):
    model = _mlp()
    model.save_weights(tmp_path / "w.weights.h5")
    other = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8), keras.layers.Dense(2)])
    before = other.get_weights()
    with pytest.raises(ValueError, match="shape"):
        other.load_weights(tmp_path / "w.weights.h5")
    assert all(np.array_equal(a, b) for a, b in zip(before, other.get_weights()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        other.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    assert any("shape" in str(w.message) for w in caught)
    np.testing.assert_array_equal(other.layers[0].get_weights()[0], model.layers[0].get_weights()[0])


def test_load_weights_into_unbuilt_model_restores_on_first_call(tmp_path):
    """As tf.keras does with its checkpoint format; HDF5 weights need a built model (tf.keras's error)."""
    model = keras.Sequential([keras.layers.Dense(2)])
    built = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    built.save_weights(tmp_path / "w.npz")
    status = model.load_weights(tmp_path / "w.npz")
    with pytest.raises(AssertionError, match="waiting"):
        status.assert_consumed()
    x = np.ones((1, 3), "float32")
    np.testing.assert_array_equal(model(x).numpy(), built(x).numpy())  # the first call already uses them
    status.assert_consumed()
    if weights_formats.h5py_available():
        built.save_weights(tmp_path / "w.weights.h5")
        with pytest.raises(ValueError, match="HDF5 format into a subclassed Model"):
            keras.Sequential([keras.layers.Dense(2)]).load_weights(tmp_path / "w.weights.h5")


def test_legacy_tf_keras_weights_file(tmp_path):
    """A weights file in tf.keras 2.x's .h5 layout (layer_names / weight_names attributes) loads."""
    h5py = pytest.importorskip("h5py")
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, name="d1"),
                              keras.layers.Dense(1, name="d2")])
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(w.shape).astype("float32") for w in model.weights]
    path = tmp_path / "legacy.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"d1", b"d2"]
        f.attrs["keras_version"] = b"2.12.0"
        for layer, pair in (("d1", values[:2]), ("d2", values[2:])):
            group = f.create_group(layer)
            group.attrs["weight_names"] = [f"{layer}/kernel:0".encode(), f"{layer}/bias:0".encode()]
            group.create_dataset(f"{layer}/kernel:0", data=pair[0])
            group.create_dataset(f"{layer}/bias:0", data=pair[1])
    model.load_weights(path)
    for w, v in zip(model.get_weights(), values):
        np.testing.assert_array_equal(w, v)
    renamed = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1, name="d2"),
                                keras.layers.Dense(1, name="zz")])
    with pytest.raises(ValueError):
        renamed.load_weights(path)


def test_legacy_h5_full_model(tmp_path):
    pytest.importorskip("h5py")
    model = _mlp()
    x, y = _rand(8, 4), np.arange(8) % 3
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "m.h5")
    loaded = keras.models.load_model(tmp_path / "m.h5")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    _continue_identically(model, loaded, x, y)


def test_directory_format_for_paths_without_extension(tmp_path):
    model = _mlp()
    x, y = _rand(8, 4), np.arange(8) % 3
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "saved_model"
    model.save(path)
    assert os.path.isdir(path) and "config.json" in os.listdir(path)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(path)  # replaces the directory atomically
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert sorted(os.listdir(tmp_path)) == ["saved_model"]


def test_json_round_trip(tmp_path, clean_registry):
    model = _mlp()
    text = model.to_json()
    config = json.loads(text)
    assert config["class_name"] == "Sequential" and config["keras_version"] == "2.12.0"
    clone = keras.models.model_from_json(text)
    assert [layer.get_config() for layer in clone.layers] == [layer.get_config() for layer in model.layers]
    assert keras.saving.model_from_config(config).count_params() == model.count_params()
    with pytest.raises(RuntimeError, match="to_json"):
        model.to_yaml()
    hostile = json.dumps({"class_name": "Popen", "module": "subprocess", "config": {"args": ["true"]}})
    with pytest.raises(UnsafeModelError):
        keras.models.model_from_json(hostile)


def test_clone_model_variants():
    a = keras.Input(shape=(3,))
    shared = keras.layers.Dense(3, name="shared")
    out = keras.layers.Add()([shared(a), shared(shared(a))])
    model = keras.Model(a, keras.layers.Dense(1, name="head")(out))
    clone = keras.models.clone_model(model)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert not any(c is m for c, m in zip(clone.layers, model.layers))
    assert len(clone.get_layer("shared")._inbound_nodes) == 3
    clone.set_weights(model.get_weights())
    x = _rand(4, 3)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    # clone_function: keep the head shared, change the rest
    kept = keras.models.clone_model(model, clone_function=lambda layer: layer if layer.name == "head" else
                                    layer.__class__.from_config(layer.get_config()))
    assert kept.get_layer("head") is model.get_layer("head")
    # input_tensors and Sequential
    new_input = keras.Input(shape=(3,), name="fresh")
    assert keras.models.clone_model(model, input_tensors=new_input).inputs[0] is new_input
    seq = _mlp()
    seq_clone = keras.models.clone_model(seq)
    assert type(seq_clone) is keras.Sequential and seq_clone.count_params() == seq.count_params()
    assert not _same_weights(seq, seq_clone)  # fresh initialisation, as in Keras


def test_lambda_layer_code_is_refused_in_safe_mode_and_runs_only_when_trusted(tmp_path):
    marker = tmp_path / "MARKER"
    source = f"lambda x: (open({str(marker)!r}, 'w').close(), x * 2.0)[1]"
    payload = eval(compile(source, "<payload>", "eval"))  # the test's own code
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Lambda(payload, name="payload"),
                              keras.layers.Dense(1)])
    path = tmp_path / "lambda.keras"
    model.save(path)
    marker.unlink()  # building the model ran the lambda once
    for safe in (None, True):
        kwargs = {} if safe is None else {"safe_mode": safe}
        with pytest.raises(UnsafeModelError, match="potential risk of arbitrary code execution"):
            keras.models.load_model(path, **kwargs)
    assert not marker.exists()
    loaded = keras.models.load_model(path, safe_mode=False)
    assert marker.exists()  # the code did run: safe_mode was what stopped it
    x = _rand(3, 2)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_lambda_with_a_featherflow_function_loads_in_safe_mode(tmp_path):
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Lambda(ff.math.square), keras.layers.Dense(1)])
    model.save(tmp_path / "sq.keras")
    loaded = keras.models.load_model(tmp_path / "sq.keras")
    x = _rand(3, 2)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    model = _mlp()
    path = tmp_path / "m.keras"
    model.save(path)
    good = path.read_bytes()
    from featherflow.keras.saving import archive

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(archive, "write_zip", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["m.keras"]


def test_overwrite_false_keeps_the_existing_file(tmp_path):
    model = _mlp()
    path = tmp_path / "m.keras"
    path.write_bytes(b"keep me")
    with pytest.warns(UserWarning, match="already exists"):
        model.save(path, overwrite=False)
    assert path.read_bytes() == b"keep me"


def test_truncated_model_file_gives_a_clear_error(tmp_path):
    model = _mlp()
    path = tmp_path / "m.keras"
    model.save(path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(InvalidArchiveError):
        keras.models.load_model(path)


def test_registered_layer_inside_sequential_and_custom_object_scope(tmp_path, clean_registry):
    @saving.register_keras_serializable(package="Tests")
    class Twice(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    class Thrice(keras.layers.Layer):
        def call(self, x):
            return x * 3.0

    x = _rand(3, 2)
    for layer_cls in (Twice, Thrice):
        model = keras.Sequential([keras.Input(shape=(2,)), layer_cls(), keras.layers.Dense(1)])
        model.save(tmp_path / "m.keras")
        with saving.custom_object_scope({"Thrice": Thrice}):
            loaded = keras.models.load_model(tmp_path / "m.keras")
        assert type(loaded.layers[0]) is layer_cls
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert keras.layers.deserialize(keras.layers.serialize(Twice(name="t"))).name == "t"


def test_adapted_normalization_keeps_its_statistics(tmp_path):
    data = _rand(32, 3) * 5.0 + 2.0
    norm = keras.layers.Normalization()
    norm.adapt(data)
    model = keras.Sequential([keras.Input(shape=(3,)), norm, keras.layers.Dense(1)])
    model.save(tmp_path / "norm.keras")
    loaded = keras.models.load_model(tmp_path / "norm.keras")
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))
    normalized = loaded.layers[0](data).numpy()
    np.testing.assert_allclose(normalized.mean(axis=0), 0.0, atol=1e-5)


def test_registered_loss_class_and_metric_objects_in_compile_config(tmp_path, clean_registry):
    @saving.register_keras_serializable(package="Tests")
    class ScaledMSE(keras.losses.Loss):
        def __init__(self, scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def call(self, y_true, y_pred):
            return ff.reduce_mean(ff.square(y_true - y_pred), axis=-1) * self.scale

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=ScaledMSE(2.0),
                  metrics=[keras.metrics.MeanAbsoluteError(), "mse", keras.metrics.RootMeanSquaredError(name="r")])
    x, y = _rand(8, 3), _rand(8, 2, seed=9)
    model.fit(x, y, verbose=0)
    model.save(tmp_path / "loss.keras")
    loaded = keras.models.load_model(tmp_path / "loss.keras")
    assert isinstance(loaded.compiled_loss._user_losses, ScaledMSE) and loaded.compiled_loss._user_losses.scale == 2.0
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    got = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(got) == sorted(expected) == ["loss", "mean_absolute_error", "mse", "r"]
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-6)


def test_without_h5py_saves_npz_and_names_the_extra(tmp_path, monkeypatch):
    model = _mlp()
    x = _rand(4, 4)
    model.save(tmp_path / "with_h5.keras")
    monkeypatch.setitem(__import__("sys").modules, "h5py", None)  # `import h5py` now raises ImportError
    model.save(tmp_path / "m.keras")
    assert "model.weights.npz" in zipfile.ZipFile(tmp_path / "m.keras").namelist()
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "m.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))
    from featherflow.keras.saving import saving_api

    monkeypatch.setattr(saving_api, "_warned_no_h5", [False])
    with pytest.warns(UserWarning, match="h5py is not installed"):
        model.save_weights(tmp_path / "w.weights.h5")
    other = _mlp()
    other.load_weights(tmp_path / "w.weights.h5")
    assert _same_weights(model, other)
    with pytest.raises(ImportError, match=r"featherflow\[h5\]"):
        keras.models.load_model(tmp_path / "with_h5.keras")


def test_load_weights_from_a_whole_model_archive(tmp_path):
    model = _mlp()
    model.fit(_rand(8, 4), np.arange(8) % 3, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    other = _mlp()
    other.load_weights(tmp_path / "m.keras")
    assert _same_weights(model, other)
    with pytest.raises(ValueError, match="weights only"):
        model.save_weights(tmp_path / "w.keras")


def test_custom_save_and_load_own_variables_hooks(tmp_path):
    class Lookup(keras.layers.Layer):
        """Keeps a NumPy table outside any Variable; saves it through Keras 3's hooks."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.table = np.zeros(3, "float32")

        def call(self, x):
            return x + self.table

        def save_own_variables(self, store):
            store["0"] = self.table

        def load_own_variables(self, store):
            self.table = store["0"]
            self.table += 0.0  # the loader hands over writable arrays

    layer = Lookup()
    layer.table = np.array([1.0, 2.0, 3.0], "float32")
    model = keras.Sequential([keras.Input(shape=(3,)), layer])
    model.save(tmp_path / "lookup.keras")
    loaded = keras.models.load_model(tmp_path / "lookup.keras", custom_objects={"Lookup": Lookup})
    np.testing.assert_array_equal(loaded.layers[0].table, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(loaded.predict(np.zeros((1, 3), "float32"), verbose=0), [[1.0, 2.0, 3.0]])
