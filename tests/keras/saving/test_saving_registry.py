"""The object registry and (de)serialisation of single objects: closed by default, open only by registration."""

import threading

import numpy as np
import pytest

from featherflow import keras
from featherflow.keras import saving
from featherflow.keras.saving import object_registration, serialization_lib
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


def test_register_class_and_function_names(clean_registry):
    @saving.register_keras_serializable(package="Tests")
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    @saving.register_keras_serializable(package="Tests", name="triple")
    def triple(x):
        return x * 3

    assert saving.get_registered_name(Scale) == "Tests>Scale"
    assert saving.get_registered_name(triple) == "Tests>triple"
    assert saving.get_registered_object("Tests>Scale") is Scale
    assert saving.get_registered_object("Tests>triple") is triple
    assert saving.get_custom_objects()["Tests>Scale"] is Scale
    # unregistered objects are named by __name__ and resolve to nothing
    assert saving.get_registered_name(np.mean) == "mean"
    assert saving.get_registered_object("mean") is None


def test_register_validates_arguments(clean_registry):
    with pytest.raises(ValueError, match="package"):
        saving.register_keras_serializable(package="a>b")
    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(type("NoConfig", (), {}))


def test_reregistering_a_name_replaces_the_object(clean_registry):
    first = saving.register_keras_serializable("Tests", "f")(lambda x: x)
    second = saving.register_keras_serializable("Tests", "f")(lambda x: x + 1)
    assert saving.get_registered_object("Tests>f") is second
    assert first not in object_registration._GLOBAL_CUSTOM_NAMES


def test_custom_object_scope_nests_and_restores():
    def a(x):
        return x

    def b(x):
        return x

    with saving.custom_object_scope({"fn": a}):
        assert saving.get_registered_object("fn") is a
        with saving.CustomObjectScope({"fn": b}):
            assert saving.get_registered_object("fn") is b
        assert saving.get_registered_object("fn") is a
    assert saving.get_registered_object("fn") is None
    with pytest.raises(RuntimeError):
        with saving.custom_object_scope({"fn": a}):
            raise RuntimeError("boom")
    assert saving.get_registered_object("fn") is None


def test_custom_object_scope_is_thread_local():
    seen = []

    def worker():
        seen.append(saving.get_registered_object("only_here"))

    with saving.custom_object_scope({"only_here": len}):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert saving.get_registered_object("only_here") is len
    assert seen == [None]


def test_dense_serialization_round_trip_keeps_the_config():
    layer = keras.layers.Dense(4, activation="relu", use_bias=False, name="my_dense")
    config = saving.serialize_keras_object(layer)
    assert config["module"] == "keras.layers" and config["class_name"] == "Dense"
    assert config["registered_name"] is None
    clone = saving.deserialize_keras_object(config)
    assert type(clone) is keras.layers.Dense
    assert clone.get_config() == layer.get_config()


def test_build_config_recreates_weights():
    layer = keras.layers.Dense(3)
    layer.build((None, 5))
    layer._build_input_shape = (None, 5)
    config = saving.serialize_keras_object(layer)
    assert config["build_config"] == {"input_shape": [None, 5]}
    clone = saving.deserialize_keras_object(config)
    assert clone.built and [w.shape for w in clone.weights] == [(5, 3), (3,)]


def test_registered_custom_layer_round_trip(clean_registry):
    @saving.register_keras_serializable(package="Tests")
    class Shift(keras.layers.Layer):
        def __init__(self, amount=1.0, **kwargs):
            super().__init__(**kwargs)
            self.amount = amount

        def call(self, x):
            return x + self.amount

        def get_config(self):
            return {**super().get_config(), "amount": self.amount}

    config = saving.serialize_keras_object(Shift(2.5, name="s"))
    assert config["registered_name"] == "Tests>Shift"
    clone = saving.deserialize_keras_object(config)
    assert isinstance(clone, Shift) and clone.amount == 2.5
    np.testing.assert_allclose(clone(np.array([[1.0]], "float32")).numpy(), [[3.5]])
    # a config that names only the bare class name still finds the unique registration
    bare = {"class_name": "Shift", "config": config["config"]}
    assert isinstance(saving.deserialize_keras_object(bare), Shift)


def test_unregistered_custom_class_needs_custom_objects():
    class Unknown(keras.layers.Layer):
        pass

    config = saving.serialize_keras_object(Unknown(name="u"))
    with pytest.raises(TypeError, match="Could not locate class 'Unknown'"):
        saving.deserialize_keras_object(config)
    with pytest.raises(UnsafeModelError):
        saving.deserialize_keras_object(config)
    clone = saving.deserialize_keras_object(config, custom_objects={"Unknown": Unknown})
    assert isinstance(clone, Unknown) and clone.name == "u"
    with saving.custom_object_scope({"Unknown": Unknown}):
        assert isinstance(saving.deserialize_keras_object(config), Unknown)


def test_builtin_functions_serialize_by_name_and_resolve_to_the_same_object():
    relu = keras.activations.get("relu")
    config = saving.serialize_keras_object(relu)
    assert config == {"module": "keras.activations", "class_name": "function", "config": "relu",
                      "registered_name": "relu"}
    assert saving.deserialize_keras_object(config) is relu


def test_plain_data_round_trips():
    data = {"a": np.arange(6, dtype="int16").reshape(2, 3), "b": b"bytes", "c": [1, 2.5, None, "s"],
            "d": np.float32(1.5), "e": slice(1, 5, 2)}
    config = saving.serialize_keras_object(data)
    back = saving.deserialize_keras_object(config)
    np.testing.assert_array_equal(back["a"], data["a"])
    assert back["a"].dtype == np.int16
    assert back["b"] == b"bytes" and back["c"] == [1, 2.5, None, "s"] and back["d"] == 1.5
    assert back["e"] == slice(1, 5, 2)


def test_module_disambiguates_and_accepts_keras_paths():
    dense = saving.deserialize_keras_object(
        {"module": "keras.src.layers.core.dense", "class_name": "Dense", "config": {"units": 2}})
    assert isinstance(dense, keras.layers.Dense)
    loss = saving.deserialize_keras_object({"module": "keras.losses", "class_name": "MeanSquaredError",
                                            "config": {}})
    assert type(loss).__module__.startswith("featherflow.keras.losses")


@pytest.mark.parametrize("config", [
    {"module": "os", "class_name": "function", "config": "system", "registered_name": "system"},
    {"module": "subprocess", "class_name": "Popen", "config": {"args": ["true"]}},
    {"module": "builtins", "class_name": "function", "config": "eval"},
    {"module": "builtins", "class_name": "function", "config": "__import__"},
    {"module": "keras.layers", "class_name": "Dense", "config": {"units": 1, "kernel_initializer": {
        "module": "posix", "class_name": "system", "config": {}}}},
    {"module": "evil", "class_name": "Dense", "registered_name": "evil>Payload", "config": {"units": 1}},
])
def test_foreign_modules_and_callables_are_refused(config):
    with pytest.raises(UnsafeModelError, match="Refused|Could not locate"):
        saving.deserialize_keras_object(config)


def test_lambda_code_needs_safe_mode_false():
    offset = 10

    def make():
        return lambda x: x * 2 + offset

    config = saving.serialize_keras_object(make())
    assert config["class_name"] == "__lambda__"
    with pytest.raises(UnsafeModelError, match="potential risk of arbitrary code execution"):
        saving.deserialize_keras_object(config)
    fn = saving.deserialize_keras_object(config, safe_mode=False)
    assert fn(3) == 16
    with saving.SafeModeScope(True):  # an enclosing scope wins over the argument
        with pytest.raises(UnsafeModelError):
            saving.deserialize_keras_object(config, safe_mode=False)


def test_enable_unsafe_deserialization_is_global():
    config = saving.serialize_keras_object(lambda x: x + 1)
    try:
        saving.enable_unsafe_deserialization()
        assert saving.deserialize_keras_object(config)(1) == 2
    finally:
        serialization_lib._global_safe_mode["unsafe_enabled"] = False
    with pytest.raises(UnsafeModelError):
        saving.deserialize_keras_object(config)


@pytest.mark.parametrize("bad", [
    {"class_name": "__numpy__", "config": {"value": [1], "dtype": "object"}},
    {"class_name": "__typespec__", "config": {}},
    {"class_name": "__reduce__", "config": {}},
])
def test_special_entries_that_could_carry_objects_are_refused(bad):
    with pytest.raises(UnsafeModelError):
        saving.deserialize_keras_object(bad)


def test_deeply_nested_config_is_refused_cleanly():
    config = {"class_name": "Dense", "config": {"units": 1}}
    node = config["config"]
    for _ in range(400):
        node["nested"] = {"x": [{}]}
        node = node["nested"]["x"][0]
    with pytest.raises(InvalidArchiveError, match="nested too deeply"):
        saving.deserialize_keras_object(config)
