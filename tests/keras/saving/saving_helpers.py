"""Builders for hand-crafted model archives (valid and hostile) used by the saving tests."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile

import numpy as np

from featherflow.keras.saving.weights_formats import encode_h5, encode_npz


def dense_config(units: int = 2, input_dim: int = 3, name: str = "dense", **overrides) -> dict:
    """The serialized config of a built Dense layer (a loadable top-level object)."""
    inner = {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": "linear",
             "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
             "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
             "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
             "bias_constraint": None}
    inner.update(overrides)
    return {"module": "keras.layers", "class_name": "Dense", "config": inner, "registered_name": None,
            "build_config": {"input_shape": [None, input_dim]}}


def dense_weights(units: int = 2, input_dim: int = 3) -> dict:
    rng = np.random.default_rng(0)
    return {"vars/0": rng.standard_normal((input_dim, units)).astype("float32"),
            "vars/1": rng.standard_normal(units).astype("float32")}


def zip_bytes(members: dict, infos: dict | None = None) -> bytes:
    """A zip of ``{name: bytes}``; ``infos`` may give a ``ZipInfo`` per name (attributes, compression)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = (infos or {}).get(name) or zipfile.ZipInfo(name)
            archive.writestr(info, data)
    return buffer.getvalue()


def archive_bytes(config, weights: dict | None = None, weights_format: str = "npz", metadata: dict | None = None,
                  extra: dict | None = None, weights_data: bytes | None = None, with_hash: bool = True) -> bytes:
    """A ``.keras`` archive from parts; ``weights_data`` overrides the encoded weights file."""
    name = "model.weights.npz" if weights_format == "npz" else "model.weights.h5"
    if weights_data is None:
        weights = dense_weights() if weights is None else weights
        weights_data = encode_npz(weights) if weights_format == "npz" else encode_h5(weights)
    meta = {"keras_version": "2.12.0", "weights_file": name}
    if with_hash:
        meta["weights_sha256"] = hashlib.sha256(weights_data).hexdigest()
    meta.update(metadata or {})
    config_bytes = config if isinstance(config, bytes) else json.dumps(config).encode()
    members = {"metadata.json": json.dumps(meta).encode(), "config.json": config_bytes, name: weights_data}
    members.update(extra or {})
    return zip_bytes(members)


def symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def npy_bytes_with_header(header: dict, payload: bytes) -> bytes:
    """A .npy file whose header says anything (e.g. a huge shape) over ``payload``."""
    text = repr(header).encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    text = text + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + payload
