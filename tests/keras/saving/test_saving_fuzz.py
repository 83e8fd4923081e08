"""Fuzzing ``load_model``: thousands of mutated valid archives; only a clean load or a featherflow error is allowed.

Seeded and bounded: byte-level mutations of the whole file (mostly caught by the zip CRCs) and
structure-aware ones that re-zip valid containers around mutated JSON, weights bytes and member
names, so the JSON vetting and the .npz/HDF5 decoders see the garbage too.
"""

import copy
import hashlib
import io
import json
import os
import time
import warnings
import zipfile

import numpy as np
import pytest
from saving_helpers import dense_config, dense_weights

from featherflow.keras import saving
from featherflow.keras.saving.errors import SavingError

N_CASES = 3000
TIME_BUDGET_S = 20.0
_POOL = [None, True, 0, 1, -1, 2, 7, 64, 1e308, -0.5, float("nan"), "", "x", "relu", "Dense", [], [None], {},
         {"class_name": "Dense", "config": {}}, {"class_name": "function", "module": "os", "config": "system"},
         {"class_name": "__lambda__", "config": {"value": "AAAA"}}, {"class_name": "Popen", "module": "subprocess"},
         {"class_name": "__numpy__", "config": {"value": [1, 2], "dtype": "float32"}}, [1, 2, 3], "../../etc"]


def _base_members(fmt: str) -> dict:
    """Members of a valid archive: a small model when models exist, else a Dense layer."""
    try:
        from featherflow import keras

        model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="relu"),
                                  keras.layers.Dense(2)])
        model.compile(optimizer="adam", loss="mse")
        model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0)
        from featherflow.keras.saving import saving_lib

        return saving_lib.archive_members(model, weights_format=fmt)
    except (ImportError, AttributeError):
        from featherflow.keras.saving.weights_formats import encode_h5, encode_npz

        weights = (encode_npz if fmt == "npz" else encode_h5)(dense_weights())
        name = f"model.weights.{fmt}"
        meta = {"weights_file": name, "weights_sha256": hashlib.sha256(weights).hexdigest()}
        return {"metadata.json": json.dumps(meta).encode(), "config.json": json.dumps(dense_config()).encode(),
                name: weights}


def _zip(members: dict) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are one of the mutations
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members:
                archive.writestr(name, data)
    return buffer.getvalue()


def _mutate_json(value, rng, depth=0):
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = list(value)[rng.integers(len(value))]
        choice = rng.random()
        if choice < 0.15:
            del value[key]
        elif choice < 0.55 or not isinstance(value[key], (dict, list)):
            value[key] = copy.deepcopy(_POOL[rng.integers(len(_POOL))])
        else:
            _mutate_json(value[key], rng, depth + 1)
    elif isinstance(value, list) and value:
        i = int(rng.integers(len(value)))
        if rng.random() < 0.5 and isinstance(value[i], (dict, list)):
            _mutate_json(value[i], rng, depth + 1)
        else:
            value[i] = copy.deepcopy(_POOL[rng.integers(len(_POOL))])
    return value


def _flip(data: bytes, rng, count=None) -> bytes:
    out = bytearray(data)
    for _ in range(count or int(rng.integers(1, 9))):
        if not out:
            break
        position = int(rng.integers(len(out)))
        kind = rng.random()
        if kind < 0.7:
            out[position] = int(rng.integers(256))
        elif kind < 0.85:
            del out[position:position + int(rng.integers(1, 64))]
        else:
            out[position:position] = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
    return bytes(out)


def _mutated(base: dict, rng) -> bytes:
    members = list(base.items())
    strategy = rng.random()
    if strategy < 0.25:  # raw bytes of the finished archive
        return _flip(_zip(members), rng)
    if strategy < 0.30:
        data = _zip(members)
        return data[: int(rng.integers(len(data)))]
    out = []
    weights_name = next(name for name, _ in members if name.startswith("model.weights"))
    for name, data in members:
        if name == "config.json" and strategy < 0.65:
            data = json.dumps(_mutate_json(json.loads(data), rng)).encode()
        elif name == "metadata.json" and 0.65 <= strategy < 0.70:
            data = json.dumps(_mutate_json(json.loads(data), rng)).encode()
        elif name == weights_name and 0.70 <= strategy < 0.92:
            data = _flip(data, rng, int(rng.integers(1, 4)))
            if rng.random() < 0.8:  # keep the integrity hash valid so the decoder sees the bytes
                meta = json.loads(dict(members)["metadata.json"])
                meta["weights_sha256"] = hashlib.sha256(data).hexdigest()
                out = [(n, json.dumps(meta).encode() if n == "metadata.json" else d) for n, d in out]
                members = [(n, json.dumps(meta).encode() if n == "metadata.json" else d) for n, d in members]
        out.append((name, data))
    if strategy >= 0.92:  # member-name games: rename, duplicate, drop
        i = int(rng.integers(len(out)))
        name, data = out[i]
        action = rng.random()
        if action < 0.4:
            out[i] = (["../" + name, "/" + name, name.upper(), name + "/", "a//" + name][rng.integers(5)], data)
        elif action < 0.7:
            out.append((name, _flip(data, rng)))
        else:
            del out[i]
    return _zip(out)


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_fuzzed_archives_load_cleanly_or_fail_with_a_featherflow_error(fmt, tmp_path):
    if fmt == "h5":
        pytest.importorskip("h5py")
    rng = np.random.default_rng(20240611 if fmt == "npz" else 7)
    base = _base_members(fmt)
    outcomes = {"loaded": 0, "refused": 0}
    deadline = time.monotonic() + TIME_BUDGET_S / 2
    n = 0
    while n < N_CASES // 2 and time.monotonic() < deadline:
        data = _mutated(base, rng)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                saving.load_model(io.BytesIO(data))
            outcomes["loaded"] += 1
        except SavingError:
            outcomes["refused"] += 1
        except Exception as e:  # noqa: BLE001 - the point of the test
            pytest.fail(f"case {n}: load_model raised {type(e).__name__}: {e}")
        n += 1
    # ~1200 per format on an idle machine (~8 ms a case); the floor keeps a loaded shared machine from failing it
    assert n >= 300, f"only {n} cases ran within the time budget"
    assert outcomes["refused"] > n // 4  # the mutations really do break files
    assert os.listdir(tmp_path) == []  # nothing was extracted or left behind
