"""Files featherflow writes load in Keras 3 and in tf_keras 2.x and predict the same.

fixtures/featherflow_written/ holds one set of featherflow-written files (make_featherflow_files.py) and what
Keras 3.15 and tf_keras 2.21 made of them (make_keras_check.py -> keras_check_results.json). Without TensorFlow
here, the tests check those results and that what featherflow writes today has the very layout that was
verified: every config key, class name, module and node reference, every HDF5 group, dataset and attribute.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import real_keras_models as models
from featherflow_written import FORMATS, layout_of, write_model_files

from featherflow import keras

pytest.importorskip("h5py")
FIXTURES = Path(__file__).parent / "fixtures" / "featherflow_written"
RESULTS = json.loads((FIXTURES / "keras_check_results.json").read_text(encoding="utf-8"))
TOLERANCE = 1e-5
# Keras 3 and tf_keras number a nested functional model's calls differently and neither reads the other's
# numbering (see featherflow.keras.saving.graph_config); a MultiHeadAttention's second tensor, its build shapes
# and its sub-layers' weight paths differ too: .keras and .weights.h5 files are Keras 3's, .h5 files tf_keras's.
NOT_READABLE = {("nested_fn", "ff.keras", "tfk"): "AttributeError", ("nested_fn", "ff-model.h5", "k3"): "ValueError",
                ("zoo_attention", "ff.keras", "tfk"): "KeyError: 'query_shape'",
                ("zoo_attention", "ff.weights.h5", "tfk"): "ValueError: Layer 'value' expected 2 variables",
                ("zoo_attention", "ff-model.h5", "k3"): "TypeError",
                ("keywords", "ff.keras", "tfk"): "KeyError: 'query_shape'",
                ("keywords", "ff.weights.h5", "tfk"): "ValueError: Layer 'value' expected 2 variables",
                ("keywords", "ff-model.h5", "k3"): "TypeError"}
# A tf_idf lookup's idf weights are a variable of the layer in tf_keras (legacy .h5 files list it), not in Keras 3;
# .h5 files are tf_keras's. tf_keras cannot load legacy .h5 weights into its own adapted lookup layers.
IDF_IN_H5 = "ValueError: Layer count mismatch when loading weights from file"
NOT_READABLE.update({("text_vec", "ff-model.h5", "k3"): IDF_IN_H5, ("text_vec", "ff-weights.h5", "k3"): IDF_IN_H5,
                     ("text_vocab", "ff-model.h5", "k3"): IDF_IN_H5, ("text_vocab", "ff-weights.h5", "k3"): IDF_IN_H5,
                     ("text_vec", "ff-weights.h5", "tfk"): "NotImplementedError: Save or restore weights that is not"})


def expected_iterations(name: str, fmt: str, reader: str) -> int:
    """The optimizer ``iterations`` Keras restored (2 steps were taken). ``.keras`` and ``.weights.h5`` files
    hold the optimizer's state in Keras 3's layout (their native reader's): tf_keras expects one variable fewer
    (no ``learning_rate`` variable) and skips the state, unless the learning rate is a schedule (rnn)."""
    if reader == "tfk" and fmt in ("ff.keras", "ff.weights.h5") and name != "rnn":
        return 0
    return 2


def test_the_check_covered_every_model_format_and_reader():
    assert set(RESULTS["readers"]) == {"k3", "tfk"}
    assert RESULTS["readers"]["k3"]["keras"].startswith("3.") and RESULTS["readers"]["tfk"]["keras"].startswith("2.")
    assert set(RESULTS["results"]) == set(models.MODEL_NAMES)
    for formats in RESULTS["results"].values():
        assert set(formats) == set(FORMATS)
        assert all(set(readers) == {"k3", "tfk"} for readers in formats.values())


@pytest.mark.parametrize("name", models.MODEL_NAMES)
def test_keras_3_and_tf_keras_predicted_what_featherflow_predicted(name):
    for fmt, readers in RESULTS["results"][name].items():
        for reader, entry in readers.items():
            expected_error = NOT_READABLE.get((name, fmt, reader))
            if expected_error:
                assert entry.get("error", "").startswith(expected_error), (fmt, reader, entry)
                continue
            assert "error" not in entry, (fmt, reader, entry)
            assert entry["max_abs_diff"] <= TOLERANCE, (fmt, reader, entry)
            if fmt != "ff-weights.h5":  # files with the optimizer's state
                assert entry["iterations_saved"] == 2
                assert entry["iterations"] == expected_iterations(name, fmt, reader), (fmt, reader, entry)


@pytest.mark.parametrize("name", models.MODEL_NAMES)
def test_featherflow_writes_the_layout_keras_read(name, tmp_path):
    write_model_files(name, tmp_path)
    for fmt in FORMATS:
        assert layout_of(tmp_path / f"{name}-{fmt}") == layout_of(FIXTURES / f"{name}-{fmt}"), (
            f"{name}-{fmt}: featherflow now writes another layout than the one Keras 3 and tf_keras were checked to "
            "read. If the change is meant, rewrite the files (fixtures/featherflow_written/make_featherflow_files.py) "
            "and check them where TensorFlow is installed (make_keras_check.py), then commit both.")


@pytest.mark.parametrize("name", models.MODEL_NAMES)
def test_featherflow_reads_back_the_verified_files(name):
    with np.load(FIXTURES / f"{name}-ff.npz") as arrays:
        x, pred = models.unflatten(arrays, "x"), models.unflatten(arrays, "pred")
    for fmt, how in FORMATS.items():
        if how == "load_model":
            model = keras.models.load_model(FIXTURES / f"{name}-{fmt}")
        else:
            model = models.BUILDERS[name](keras)
            model.load_weights(FIXTURES / f"{name}-{fmt}")
        out = model.predict(x, verbose=0)
        for key in (pred if isinstance(pred, dict) else [None]):
            actual, expected = (out[key], pred[key]) if key is not None else (out, pred)
            np.testing.assert_allclose(actual, expected, rtol=0, atol=TOLERANCE, err_msg=fmt)
        assert int(model.optimizer.iterations.numpy()) == 2, fmt
