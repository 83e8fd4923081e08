"""Whole-model files: the ``.keras`` zip archive (and its unzipped directory form).

An archive holds ``metadata.json`` (versions, date, weights file and its SHA-256), ``config.json``
(``serialize_keras_object(model)`` with the ``compile_config``: optimizer, loss, metrics), the
weights: ``model.weights.h5`` in Keras's layout when ``h5py`` is installed, else ``model.weights.npz``
(loading reads both), and the layers' assets (``assets/<layer path>/vocabulary.txt``, as in Keras). Files
are written atomically; loading vets the whole config and every archive member before anything is built (see
``serialization_lib`` and ``archive``).

>>> import os, tempfile
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
>>> model.save(path)
>>> restored = keras.models.load_model(path)
>>> bool((restored.predict([[1.0, 2.0, 3.0]], verbose=0) == model.predict([[1.0, 2.0, 3.0]], verbose=0)).all())
True
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import inspect
import json
import math
import os
import sys
import threading
import warnings

import numpy as np

from featherflow.keras.saving import archive as archive_lib
from featherflow.keras.saving import atomic, serialization_lib, weights_formats, weights_io
from featherflow.keras.saving.errors import InvalidArchiveError, SavingError

CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
H5_WEIGHTS_FILE = "model.weights.h5"
NPZ_WEIGHTS_FILE = "model.weights.npz"
ASSETS_DIR = "assets"  # layers' files (vocabularies) at assets/<layer path>/<file>, as Keras keeps them
KERAS_API_VERSION = "2.12.0"


def _featherflow_version() -> str:
    from featherflow._version import __version__

    return __version__


# -- config helpers ------------------------------------------------------------------------------------
def get_compile_config(model):
    """The ``compile()`` arguments of ``model`` as JSON-ready data (``None`` if not compiled)."""
    if hasattr(model, "get_compile_config"):
        config = model.get_compile_config()
        return None if config is None else serialization_lib.serialize_keras_object(config)
    args = getattr(model, "_compile_args", None)
    if args is None:
        args = _compile_args_from_attributes(model)
    if args is None:
        return None
    return serialization_lib.serialize_keras_object(dict(args))


def _compile_args_from_attributes(model):
    """Keras 3's compile config rebuilt from what ``compile`` kept on the model (``None`` if not compiled)."""
    if not getattr(model, "_is_compiled", False) or getattr(model, "optimizer", None) is None:
        return None
    losses = getattr(model, "compiled_loss", None)
    metrics = getattr(model, "compiled_metrics", None)
    return {
        "optimizer": model.optimizer,
        "loss": getattr(losses, "_user_losses", getattr(model, "loss", None)),
        "loss_weights": getattr(losses, "_user_loss_weights", None),
        "metrics": getattr(metrics, "_user_metrics", None),
        "weighted_metrics": getattr(metrics, "_user_weighted_metrics", None),
        "run_eagerly": getattr(model, "_run_eagerly", None),
        "steps_per_execution": getattr(model, "_steps_per_execution", None),
        "jit_compile": None,
    }


def compile_from_config(model, config: dict, custom_objects=None, safe_mode=True) -> None:
    """Re-run ``model.compile`` from ``get_compile_config``'s output (objects rebuilt through the registry)."""
    if hasattr(model, "compile_from_config"):
        with serialization_lib.SafeModeScope(safe_mode):
            from featherflow.keras.saving.object_registration import CustomObjectScope

            with CustomObjectScope(custom_objects):
                model.compile_from_config(config)
        return
    if not isinstance(config, dict):
        raise InvalidArchiveError(f"The saved compile config must be a dict. Received: {config!r:.200}")
    kwargs = {k: serialization_lib.deserialize_keras_object(v, custom_objects, safe_mode=safe_mode)
              if isinstance(v, dict) and "class_name" in v else _deserialize_nested(v, custom_objects, safe_mode)
              for k, v in config.items()}
    accepted = inspect.signature(model.compile).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    model.compile(**kwargs)


def _deserialize_nested(value, custom_objects, safe_mode):
    if isinstance(value, dict):
        if "class_name" in value:
            return serialization_lib.deserialize_keras_object(value, custom_objects, safe_mode=safe_mode)
        return {k: _deserialize_nested(v, custom_objects, safe_mode) for k, v in value.items()}
    if isinstance(value, list):
        return [_deserialize_nested(v, custom_objects, safe_mode) for v in value]
    return value


def model_config(model, include_optimizer: bool = True) -> dict:
    """``config.json``'s content: the serialized model plus its compile config, in the form Keras 3 and
    tf.keras 2.x read (see ``graph_config`` and ``keras_export``)."""
    from featherflow.keras.saving import graph_config, keras_export
    from featherflow.keras.saving.lambda_code import attach_lambda_code

    with graph_config.writing_style("auto", portable=True):
        config = attach_lambda_code(model, serialization_lib.serialize_keras_object(model))
    if include_optimizer:
        compile_config = get_compile_config(model)
        if compile_config is not None:
            config["compile_config"] = compile_config
    return keras_export.for_file(config, "keras")


def _weights_bytes(weights: dict, weights_format: str | None):
    if weights_format is None:
        weights_format = "h5" if weights_formats.h5py_available() else "npz"
    if weights_format == "h5":
        return H5_WEIGHTS_FILE, weights_formats.encode_h5(weights)
    if weights_format == "npz":
        return NPZ_WEIGHTS_FILE, weights_formats.encode_npz(weights)
    raise ValueError(f"Unknown weights format {weights_format!r}; expected 'h5' or 'npz'.")


def archive_members(model, include_optimizer: bool = True, weights_format: str | None = None,
                    extra_metadata: dict | None = None) -> dict:
    """``{member name: bytes}`` of a model archive (used by ``save_model`` and checkpoints)."""
    config = model_config(model, include_optimizer)
    weights = weights_io.collect_weights(model, include_optimizer=include_optimizer)
    weights_name, weights_data = _weights_bytes(weights, weights_format)
    metadata = {
        "keras_version": KERAS_API_VERSION,
        "featherflow_version": _featherflow_version(),
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "weights_file": weights_name,
        "weights_sha256": hashlib.sha256(weights_data).hexdigest(),
    }
    if extra_metadata:
        metadata.update(extra_metadata)
    assets = {f"{ASSETS_DIR}/{path}": data for path, data in weights_io.collect_assets(model).items()}
    try:
        config_text = json.dumps(config, allow_nan=True)
    except TypeError as e:
        raise TypeError(f"The model's config is not JSON-serializable: {e}. Make every custom `get_config()` return "
                        "plain data (numbers, strings, lists, dicts) or Keras objects.") from e
    return {METADATA_FILE: json.dumps(metadata).encode("utf-8"), CONFIG_FILE: config_text.encode("utf-8"),
            weights_name: weights_data, **assets}


def _confirm_overwrite(filepath) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        warnings.warn(f"{filepath} already exists and overwrite=False: not saving.", stacklevel=3)
        return False
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n] ").strip().lower()
    return answer in ("y", "yes")


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True,
               weights_format: str | None = None, **kwargs) -> None:
    """Save ``model`` to ``filepath`` (``.keras`` zip; a path without extension gets the directory form).

    Args:
        model: a built Keras model.
        filepath: ``"m.keras"`` (recommended), ``"m.h5"`` (legacy HDF5, needs h5py) or a directory path.
        overwrite: replace an existing file (else ask on a terminal, or skip with a warning).
        include_optimizer: also save the compile config and the optimizer's state.
        weights_format: ``"h5"`` or ``"npz"`` (default: h5 when h5py is installed).

    The write is atomic: a crash leaves the previous file intact.
    """
    save_format = kwargs.pop("save_format", None)
    kwargs.pop("signatures", None)
    kwargs.pop("options", None)
    kwargs.pop("save_traces", None)
    if kwargs:
        raise TypeError(f"save_model() got unexpected keyword arguments: {sorted(kwargs)}")
    filepath = os.fspath(filepath)
    lower = filepath.lower()
    if not overwrite and os.path.exists(filepath) and not _confirm_overwrite(filepath):
        return
    if save_format in ("h5", "hdf5") or lower.endswith((".h5", ".hdf5")) and save_format != "keras":
        from featherflow.keras.saving import legacy_h5

        legacy_h5.save_model_to_h5(model, filepath, include_optimizer=include_optimizer)
        return
    members = archive_members(model, include_optimizer, weights_format)
    if lower.endswith(".keras") or save_format == "keras" or os.path.isfile(filepath):
        atomic.atomic_write_bytes(filepath, archive_lib.write_zip(members, compress={CONFIG_FILE, METADATA_FILE}))
    else:  # tf.keras 2.12 writes a SavedModel directory here; featherflow writes the archive's members unzipped
        atomic.atomic_write_directory(filepath, members)


# -- loading -------------------------------------------------------------------------------------------
def _read_json(archive, name: str, required: bool = True):
    if name not in archive:
        if required:
            raise InvalidArchiveError(f"The file has no {name!r}: it is not a model saved by `model.save()` "
                                      f"(members: {sorted(archive.names())[:20]}).")
        return None
    raw = archive.read(name, max_bytes=archive.limits.max_json_bytes)
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise InvalidArchiveError(f"{name} in the archive is not valid JSON: {e}") from e
    if not isinstance(value, dict):
        raise InvalidArchiveError(f"{name} must hold a JSON object. Received: {type(value).__name__}")
    return value


def read_weights(archive, metadata: dict | None) -> dict:
    """The weights dict of an opened archive (integrity-checked against ``metadata`` when it has a hash)."""
    has_h5, has_npz = H5_WEIGHTS_FILE in archive, NPZ_WEIGHTS_FILE in archive
    if not has_h5 and not has_npz:
        return {}
    wanted = (metadata or {}).get("weights_file")
    if wanted not in (H5_WEIGHTS_FILE, NPZ_WEIGHTS_FILE) or wanted not in archive:
        wanted = H5_WEIGHTS_FILE if has_h5 and (weights_formats.h5py_available() or not has_npz) else NPZ_WEIGHTS_FILE
    data = archive.read(wanted)
    digest = (metadata or {}).get("weights_sha256")
    if digest is not None and wanted == (metadata or {}).get("weights_file"):
        if not isinstance(digest, str) or hashlib.sha256(data).hexdigest() != digest.lower():
            raise InvalidArchiveError(f"{wanted} does not match the SHA-256 recorded in metadata.json: the file is "
                                      "corrupted or was modified.")
    if wanted == H5_WEIGHTS_FILE:
        return weights_formats.decode_h5(data, archive.limits)
    return weights_formats.decode_npz(data, archive.limits)


def open_archive(filepath) -> archive_lib.SafeArchive:
    """Open a ``.keras`` file or model directory for reading (validating every member)."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        previous = atomic.previous_directory_path(filepath)
        if os.path.isdir(previous):  # a directory save was interrupted mid-swap: the old model is intact
            warnings.warn(f"{filepath} is missing but an interrupted save left the previous model at {previous}; "
                          "loading that one.", stacklevel=3)
            filepath = previous
        else:
            raise FileNotFoundError(f"No file or directory found at {filepath}")
    return archive_lib.SafeArchive(filepath, label=f"file {filepath!r}")


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True,
               **kwargs):
    """Load a model saved by ``model.save`` (``.keras`` zip, directory, or legacy ``.h5``).

    Args:
        filepath: the file or directory (or an open binary file object holding a ``.keras`` archive).
        custom_objects: ``{name: class_or_function}`` for custom layers, losses, metrics, ...
        compile: re-compile the model with the saved optimizer (state included), loss and metrics.
        safe_mode: refuse ``Lambda`` layers holding Python code. Pass ``False`` only for trusted files.

    Raises:
        UnsafeModelError: the file names anything outside the registry, or code in safe mode.
        InvalidArchiveError: the file is truncated, corrupted, not a model, or beyond safety limits.
    """
    kwargs.pop("options", None)
    if kwargs:
        raise TypeError(f"load_model() got unexpected keyword arguments: {sorted(kwargs)}")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"`custom_objects` must be a dict. Received: custom_objects={custom_objects!r}")
    if hasattr(filepath, "read") and hasattr(filepath, "seek"):  # an open binary file / BytesIO of a .keras
        config, weights, metadata, assets = read_archive(filepath, with_metadata=True, with_assets=True)
        return model_from_parts(config, weights, custom_objects, compile, safe_mode, source="the file object",
                                file_source=file_source_of(metadata), assets=assets)
    filepath = os.fspath(filepath)
    from featherflow.keras.saving import foreign_files

    foreign_files.check_not_tensorflow_format(filepath, "load_model")
    if filepath.lower().endswith((".h5", ".hdf5")) and os.path.isfile(filepath) and _is_hdf5(filepath):
        from featherflow.keras.saving import legacy_h5

        return legacy_h5.load_model_from_h5(filepath, custom_objects, compile, safe_mode)
    config, weights, metadata, assets = read_archive(filepath, with_metadata=True, with_assets=True)
    return model_from_parts(config, weights, custom_objects, compile, safe_mode, source=filepath,
                            file_source=file_source_of(metadata), assets=assets)


def file_source_of(metadata):
    """The ``keras_compat.FileSource`` (writer and Keras version) recorded in an archive's metadata."""
    from featherflow.keras.saving.keras_compat import FileSource

    metadata = metadata if isinstance(metadata, dict) else {}
    version = metadata.get("keras_version")
    backend = "featherflow" if "featherflow_version" in metadata else metadata.get("backend")
    return FileSource(keras_version=version if isinstance(version, str) else None,
                      backend=backend if isinstance(backend, str) else None)


def read_archive(filepath, with_metadata: bool = False, with_assets: bool = False) -> tuple:
    """``(config, weights)`` of a ``.keras`` file or model directory, every member validated
    (then ``metadata`` with ``with_metadata``, then the layers' assets ``{path: bytes}`` with ``with_assets``)."""
    try:
        opened = archive_lib.SafeArchive(filepath, label="file object") if hasattr(filepath, "read") else \
            open_archive(filepath)
        with opened as archive:
            metadata = _read_json(archive, METADATA_FILE, required=False)
            config = _read_json(archive, CONFIG_FILE)
            weights = read_weights(archive, metadata)
            prefix = ASSETS_DIR + "/"
            assets = {name[len(prefix):]: archive.read(name) for name in archive.names()
                      if with_assets and name.startswith(prefix)}
    except (SavingError, ImportError, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as e:  # anything else a malformed file provokes is still "invalid archive"
        raise InvalidArchiveError(f"Could not read {filepath}: {type(e).__name__}: {e}") from e
    return (config, weights) + ((metadata,) if with_metadata else ()) + ((assets,) if with_assets else ())


def _is_hdf5(path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(8)
    return head == b"\x89HDF\r\n\x1a\n"


BUDGET_SLACK_BYTES = 64 << 20


@contextlib.contextmanager
def weight_budget(max_bytes: int, source: str = "the file"):
    """Refuse (in this thread) layer weights beyond ``max_bytes`` in total while the block runs.

    A model file must store every weight its config creates, so a config that declares far more
    weight memory than the file holds (``Dense(units=10**9)``) is refused before allocating it.
    """
    from featherflow.keras.layers import base

    thread = threading.get_ident()
    used = [0]

    def hook(layer, shape, dtype):
        if threading.get_ident() != thread:
            return
        used[0] += math.prod(shape) * dtype.itemsize
        if used[0] > max_bytes:
            raise InvalidArchiveError(
                f"The config in {source} declares more weight memory (layer '{layer.name}', weight of shape "
                f"{tuple(shape)}: {used[0]} bytes so far) than the file stores ({max_bytes - BUDGET_SLACK_BYTES} "
                "bytes): refusing to allocate it.")

    base._weight_creation_hooks.append(hook)
    try:
        yield
    finally:
        base._weight_creation_hooks.remove(hook)


def model_from_parts(config: dict, weights: dict, custom_objects=None, compile=True, safe_mode=True,
                     source: str = "the file", budget: bool = True, stored_bytes: int | None = None,
                     file_source=None, assets: dict | None = None):
    """Vet ``config``, build the model, compile it (optionally) and load ``assets`` and ``weights`` into it.

    With ``budget``, weight creation is capped by the bytes the file stores (``stored_bytes``, default
    the size of ``weights``; see ``weight_budget``).
    """
    from featherflow.keras.saving import keras_compat
    from featherflow.keras.saving.lambda_code import restore_lambda_code
    from featherflow.keras.saving.object_registration import CustomObjectScope

    config = dict(config)
    compile_config = config.pop("compile_config", None)
    safe = serialization_lib._effective_safe_mode(safe_mode)
    config, lambdas = restore_lambda_code(config, safe)
    with CustomObjectScope(lambdas), keras_compat.reading(file_source or keras_compat.current_source()):
        config = keras_compat.normalize(config, custom_objects)
        if compile and compile_config is not None:
            compile_config = keras_compat.normalize(compile_config, custom_objects)
        return _build_model(config, compile_config, weights, custom_objects, compile, safe, source, budget,
                            stored_bytes, assets)


def _build_model(config, compile_config, weights, custom_objects, compile, safe, source, budget, stored_bytes,
                 assets=None):
    serialization_lib.check_config(config, custom_objects, safe)
    if compile and compile_config is not None:
        serialization_lib.check_config(compile_config, custom_objects, safe)
    assign = stored_bytes is None  # a caller that passes stored_bytes assigns the weights itself
    if stored_bytes is None:
        stored_bytes = sum(int(np.asarray(w).nbytes) for w in weights.values())
    limit = stored_bytes + BUDGET_SLACK_BYTES
    try:
        with weight_budget(limit, source) if budget else contextlib.nullcontext():
            model = serialization_lib.deserialize_keras_object(config, custom_objects, safe_mode=safe)
        if not hasattr(model, "weights"):
            raise InvalidArchiveError(f"{source} does not hold a model or layer (found {type(model).__name__}).")
        if compile and compile_config is not None:
            compile_from_config(model, compile_config, custom_objects, safe)
        # assets first: a vocabulary kept exactly beside the variables (see lookup_saving) then wins
        weights_io.assign_assets(model, assets or {})
        notes = weights_io.assign_weights(model, weights, load_optimizer=compile) if assign else []
    except (SavingError, ImportError):
        raise
    except Exception as e:  # any failure while building from a file becomes one clear featherflow error
        raise InvalidArchiveError(f"Could not load the model from {source}: {type(e).__name__}: {e}") from e
    for note in notes:
        warnings.warn(note, stacklevel=3)
    return model
