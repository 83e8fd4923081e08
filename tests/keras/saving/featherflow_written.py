"""The files featherflow writes for the fixture models (real_keras_models.py), in every format Keras reads.

``write_model_files`` trains a model two steps with featherflow and saves it as ``<model>-ff.keras``,
``<model>-ff.weights.h5``, ``<model>-ff-model.h5`` (legacy full model) and ``<model>-ff-weights.h5``
(legacy ``save_weights``), plus ``<model>-ff.npz`` (inputs ``x/...``, predictions ``pred/...``,
``iterations``). fixtures/featherflow_written/ holds one such set, which Keras 3 and tf_keras loaded
(make_keras_check.py, results in keras_check_results.json); the tests compare what featherflow writes
today with it (layout_of), so a change that would break those readers is caught without TensorFlow.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import real_keras_models as models

# format -> how Keras reads it
FORMATS = {"ff.keras": "load_model", "ff.weights.h5": "load_weights", "ff-model.h5": "load_model",
           "ff-weights.h5": "load_weights"}


def write_model_files(name: str, out_dir) -> None:
    """Build, train and save fixture model ``name`` with featherflow into ``out_dir`` (every format)."""
    from featherflow import keras

    out_dir = Path(out_dir)
    keras.backend.clear_session()  # generated layer names start from scratch, as in the verified files
    keras.utils.set_random_seed(1234)
    model = models.BUILDERS[name](keras)
    train = models.data(name)
    model.fit(train["x"], train["y"], batch_size=8, epochs=1, verbose=0, shuffle=False)
    x = models.data(name, seed=100)["x"]
    pred = model.predict(x, verbose=0)
    stem = out_dir / f"{name}-ff"
    model.save(f"{stem}.keras")
    model.save_weights(f"{stem}.weights.h5")
    model.save(f"{stem}-model.h5")
    model.save_weights(f"{stem}-weights.h5")
    arrays = {"iterations": np.asarray(int(model.optimizer.iterations.numpy()))}
    arrays.update(models.flatten("x", x))
    arrays.update(models.flatten("pred", pred))
    np.savez(f"{stem}.npz", **arrays)


def _h5_layout(source) -> dict:
    """``{path: description}`` of an HDF5 file: groups with their attribute names (and the values of the
    structural ones), datasets with shape and dtype."""
    import h5py

    layout = {}
    structural = ("layer_names", "weight_names", "model_config", "training_config")
    with h5py.File(source, "r") as handle:
        def describe(obj):
            attrs = {}
            for key in sorted(obj.attrs):
                if key in structural:
                    value = obj.attrs[key]
                    if key.endswith("_config"):
                        value = _config_layout(json.loads(value))
                    else:
                        value = [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(value).tolist()]
                    attrs[key] = value
                else:
                    attrs[key] = None
            return attrs

        layout["/"] = describe(handle)

        def visit(path, obj):
            if isinstance(obj, h5py.Dataset):
                layout[path] = {"shape": list(obj.shape), "dtype": str(obj.dtype), "attrs": describe(obj)}
            else:
                layout[path] = {"attrs": describe(obj)}

        handle.visititems(visit)
    return layout


def _config_layout(config):
    """A config as compared: all of it (every key, class name, module, node reference and value)."""
    return config


def layout_of(path) -> dict:
    """The structure of a featherflow-written file, to compare with the verified fixture's."""
    path = Path(path)
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as archive:
            names = sorted(archive.namelist())
            config = json.loads(archive.read("config.json"))
            metadata = json.loads(archive.read("metadata.json"))
            weights = _h5_layout(io.BytesIO(archive.read("model.weights.h5")))
        return {"members": names, "config": _config_layout(config), "metadata_keys": sorted(metadata),
                "weights": weights}
    return _h5_layout(path)
