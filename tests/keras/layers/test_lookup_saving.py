"""Lookup vocabularies are saved where Keras saves them (featherflow/keras/layers/lookup_saving.py): assets of
``.keras`` files, the config of ``.h5`` files; a vocabulary the text asset cannot hold stays exact."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from featherflow import keras
from featherflow.keras import layers

pytest.importorskip("h5py")
REAL_KERAS = Path(__file__).parents[1] / "saving" / "fixtures" / "real_keras"


def _text_vec_model():
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "saving"))
    import real_keras_models

    return real_keras_models.text_vec(keras), real_keras_models.data("text_vec", seed=100)["x"]


def test_keras_archive_holds_the_vocabularies_as_keras_3_writes_them(tmp_path):
    model, _ = _text_vec_model()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as ours, zipfile.ZipFile(REAL_KERAS / "text_vec-k3.keras") as keras3:
        assets = sorted(name for name in ours.namelist() if name.startswith("assets/"))
        assert assets == sorted(name for name in keras3.namelist() if name.startswith("assets/"))
        assert len(assets) == 4  # TextVectorization's twice: its own path and its lookup layer's, as in Keras
        for name in assets:
            assert ours.read(name) == keras3.read(name), name
        config = json.loads(ours.read("config.json"))
    lookups = [entry["config"] for entry in config["config"]["layers"] if entry["class_name"].endswith(
        ("Lookup", "Vectorization"))]
    assert [c["vocabulary"] for c in lookups] == [None, None, None]  # adapted: not in the config


def test_keras_archive_round_trip_restores_adapted_vocabularies(tmp_path):
    model, x = _text_vec_model()
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    for name in ("vectorize", "tag_lookup", "code_lookup"):
        assert loaded.get_layer(name).get_vocabulary() == model.get_layer(name).get_vocabulary()
    np.testing.assert_array_equal(loaded.get_layer("tag_lookup").idf_weights, model.get_layer("tag_lookup").idf_weights)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=0, atol=1e-7)
    # the vocabulary came from the asset: with it removed the layers have none
    with zipfile.ZipFile(tmp_path / "m.keras") as source, zipfile.ZipFile(tmp_path / "bare.keras", "w") as bare:
        for info in source.infolist():
            if not info.filename.startswith("assets/"):
                bare.writestr(info, source.read(info.filename))
    assert keras.models.load_model(tmp_path / "bare.keras").get_layer("code_lookup").get_vocabulary() == [-1]


def test_h5_file_holds_adapted_vocabularies_in_the_config(tmp_path):
    import h5py

    model, x = _text_vec_model()
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5") as handle:
        config = json.loads(handle.attrs["model_config"])
        group = handle["model_weights/tag_lookup"]
        idf = [group[name.decode() if isinstance(name, bytes) else name][()] for name in group.attrs["weight_names"]]
    by_name = {entry["config"]["name"]: entry["config"] for entry in config["config"]["layers"]}
    assert by_name["vectorize"]["vocabulary"] == model.get_layer("vectorize").get_vocabulary()
    assert by_name["vectorize"]["vocabulary"][:3] == ["", "[UNK]", "the"]
    assert by_name["code_lookup"]["vocabulary"] == [-1, 7, 40, 9, 3]
    np.testing.assert_allclose(by_name["tag_lookup"]["idf_weights"], model.get_layer("tag_lookup").idf_weights)
    np.testing.assert_array_equal(idf[0], model.get_layer("tag_lookup").idf_weights)  # tf.keras 2.x's variable
    loaded = keras.models.load_model(tmp_path / "m.h5")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=0, atol=1e-7)
    config = {entry["name"]: entry["config"] for entry in model.get_config()["layers"]}
    assert config["vectorize"]["vocabulary"] is None  # get_config itself, as Keras's: adapted is not given


@pytest.mark.parametrize("tokens", [["one\nline", "b"], ["a\rb", "c"], ["x", "\u2028"], ["a", ""]])
def test_tokens_the_text_asset_cannot_hold_stay_exact(tokens, tmp_path):
    lookup = layers.StringLookup()
    lookup.adapt(np.array(tokens * 2 + [tokens[0]], dtype=object))
    inputs = keras.Input((2,), dtype="string")
    model = keras.Model(inputs, lookup(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.layers[1].get_vocabulary() == lookup.get_vocabulary()
    data = np.array([tokens], dtype=object)
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), [[1, 2]])


def test_plain_vocabularies_leave_no_numeric_copy(tmp_path):
    from featherflow.keras.saving import weights_io

    lookup = layers.StringLookup()
    lookup.adapt(np.array(["émile", "b", "b"], dtype=object))
    assert weights_io.collect_weights(lookup) == {}
    lookup.set_vocabulary(["x\ny"])
    assert sorted(weights_io.collect_weights(lookup)) == ["vars/vocabulary_bytes", "vars/vocabulary_lengths"]


def test_save_assets_and_load_assets_use_keras_files(tmp_path):
    vectorize = layers.TextVectorization()
    vectorize.adapt(["b a b", "c"])
    vectorize.save_assets(str(tmp_path))
    assert (tmp_path / "vocabulary.txt").read_bytes() == b"\n[UNK]\nb\nc\na"
    fresh = layers.TextVectorization()
    fresh.load_assets(str(tmp_path))
    assert fresh.get_vocabulary() == vectorize.get_vocabulary()
    ints = layers.IntegerLookup(vocabulary=[4, 5])  # a given vocabulary lives in the config: no asset
    ints.save_assets(str(tmp_path / "none"))
    assert not (tmp_path / "none").exists()


def test_bad_vocabulary_asset_is_a_clear_error():
    from featherflow.keras.layers import lookup_saving

    with pytest.raises(ValueError, match="one integer a line"):
        lookup_saving.load_asset_files(layers.IntegerLookup(), {"vocabulary.txt": b"-1\nseven"})
    with pytest.raises(ValueError, match="not UTF-8"):
        lookup_saving.load_asset_files(layers.StringLookup(), {"vocabulary.txt": b"\xff\xfe"})
