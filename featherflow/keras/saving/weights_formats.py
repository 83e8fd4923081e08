"""Weights files as flat ``{"layers/dense/vars/0": array}`` dicts: HDF5 (Keras's layout) and ``.npz``.

HDF5 keeps Keras's ``.weights.h5`` layout: one group per object path, one dataset per variable
(``layers/dense/vars/0`` is the first variable of the first Dense layer). ``.npz`` holds the same keys
(``layers/dense/vars/0.npy``) and needs nothing but NumPy. Reading is defensive in both formats: no
pickle (object dtypes are refused), array headers are checked against the bytes actually stored
(a "shape bomb" declaring a huge array over a few bytes is refused before any allocation), and in
HDF5 external links, soft links, external and virtual datasets and unknown filter plugins are refused.

>>> import numpy as np
>>> from featherflow.keras.saving.weights_formats import encode_npz, decode_npz
>>> decode_npz(encode_npz({"layers/dense/vars/0": np.ones((2, 3), "float32")}))["layers/dense/vars/0"].shape
(2, 3)
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np

from featherflow.keras.saving.archive import LIMITS, Limits, SafeArchive, check_member_name
from featherflow.keras.saving.errors import InvalidArchiveError, UnsafeModelError

_NUMERIC_KINDS = "biufc"
# HDF5 filters built into the library (deflate, shuffle, fletcher32, szip, nbit, scaleoffset) and LZF,
# which h5py ships; any other filter id would make HDF5 look for a plugin library to load.
_SAFE_FILTERS = {1, 2, 3, 4, 5, 6, 32000}
_MAX_H5_OBJECTS = 1_000_000
_MAX_H5_DEPTH = 64


def h5py_available() -> bool:
    """Whether ``h5py`` can be imported (the ``h5`` extra)."""
    try:
        import h5py  # noqa: F401
    except ImportError:
        return False
    return True


def _require_h5py():
    try:
        import h5py
    except ImportError as e:
        raise ImportError('Reading or writing HDF5 weights requires h5py: `pip install "featherflow[h5]"` '
                          "(without it, featherflow saves weights as .npz).") from e
    return h5py


def _check_array_dtype(dtype: np.dtype, key: str) -> None:
    if dtype.hasobject or dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None:
        raise UnsafeModelError(f"Refused weights entry {key!r} of dtype {dtype}: only numeric arrays are loaded "
                               "(no objects, no pickle).")


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise InvalidArchiveError(f"Invalid weights key {key!r}.")
    check_member_name(key)


def _check_declared_size(key, shape, dtype, stored: int, compressed: bool, limits: Limits) -> int:
    """Refuse arrays whose declared size is far beyond their stored bytes (shape bombs)."""
    if any(int(d) < 0 for d in shape):
        raise InvalidArchiveError(f"Weights entry {key!r} declares a negative dimension: {tuple(shape)}.")
    needed = math.prod(int(d) for d in shape) * dtype.itemsize
    if needed > limits.max_member_bytes:
        raise InvalidArchiveError(f"Weights entry {key!r} declares shape {tuple(shape)} ({needed} bytes), beyond the "
                                  f"limit of {limits.max_member_bytes} bytes.")
    if compressed:
        too_big = needed > 1 << 20 and needed > limits.max_shape_ratio * max(stored, 1)
    else:
        too_big = needed != stored
    if too_big:
        raise InvalidArchiveError(
            f"Weights entry {key!r} declares shape {tuple(shape)} of {dtype} ({needed} bytes) but stores {stored} "
            "bytes: refusing an array whose declared shape does not match its data (truncated file or shape bomb).")
    return needed


# -- npz ---------------------------------------------------------------------------------------------------
def encode_npz(weights: dict) -> bytes:
    """An ``.npz`` (stored, not compressed) holding ``weights`` under their keys; never pickles."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for key, value in weights.items():
            _check_key(key)
            array = np.asarray(value)
            _check_array_dtype(array.dtype, key)
            with archive.open(key + ".npy", "w", force_zip64=array.nbytes > (1 << 31)) as handle:
                np.lib.format.write_array(handle, array, allow_pickle=False)
    return buffer.getvalue()


def decode_npz(data, limits: Limits | None = None) -> dict:
    """``{key: array}`` from ``.npz`` bytes (or a path), refusing pickles, bombs and malformed headers."""
    limits = limits or LIMITS
    source = data if isinstance(data, (bytes, bytearray)) else None
    archive = SafeArchive.from_bytes(bytes(source), limits, "weights file") if source is not None else SafeArchive(
        data, limits, "weights file")
    out = {}
    with archive:
        for name in archive.names():
            if not name.endswith(".npy"):
                raise InvalidArchiveError(f"Unexpected member {name!r} in an .npz weights file.")
            key = name[:-4]
            _check_key(key)
            raw = archive.read(name)
            out[key] = _parse_npy(raw, key, limits)
    return out


def _parse_npy(raw: bytes, key: str, limits: Limits) -> np.ndarray:
    stream = io.BytesIO(raw)
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(stream, max_header_size=10000)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(stream, max_header_size=10000)
        else:
            raise InvalidArchiveError(f"Weights entry {key!r} uses unsupported .npy version {version}.")
    except InvalidArchiveError:
        raise
    except (ValueError, TypeError, SyntaxError, OverflowError, EOFError, MemoryError) as e:
        raise InvalidArchiveError(f"Weights entry {key!r} has a malformed .npy header: {e}") from e
    _check_array_dtype(dtype, key)
    offset = stream.tell()
    _check_declared_size(key, shape, dtype, len(raw) - offset, compressed=False, limits=limits)
    count = math.prod(shape)
    flat = np.frombuffer(raw, dtype=dtype, count=count, offset=offset)  # a read-only view: no second copy
    return flat.reshape(shape, order="F" if fortran else "C")


# -- HDF5 ----------------------------------------------------------------------------------------------------
def encode_h5(weights: dict) -> bytes:
    """HDF5 bytes in Keras's layout: group per path, dataset per variable (``layers/dense/vars`` / ``0``)."""
    h5py = _require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        handle.require_group("vars")  # Keras writes the (possibly empty) top-level group too
        for key, value in weights.items():
            _check_key(key)
            array = np.asarray(value)
            _check_array_dtype(array.dtype, key)
            group_path, _, leaf = key.rpartition("/")
            group = handle.require_group(group_path) if group_path else handle
            group.create_dataset(leaf, data=array)
    return buffer.getvalue()


def decode_h5(data, limits: Limits | None = None) -> dict:
    """``{key: array}`` from HDF5 bytes (or a path), walking links without following any but hard ones."""
    limits = limits or LIMITS
    h5py = _require_h5py()
    source = io.BytesIO(bytes(data)) if isinstance(data, (bytes, bytearray)) else data
    try:
        handle = h5py.File(source, "r")
    except Exception as e:  # h5py raises many types for malformed files; all mean "not valid HDF5"
        raise InvalidArchiveError(f"The weights file is not a valid HDF5 file: {e}") from e
    try:
        with handle:
            return _walk_h5(handle, h5py, limits)
    except (InvalidArchiveError, UnsafeModelError):
        raise
    except Exception as e:
        raise InvalidArchiveError(f"The HDF5 weights file is corrupted: {type(e).__name__}: {e}") from e


def _walk_h5(root, h5py, limits: Limits) -> dict:
    """Every dataset under ``root`` (a File or Group) as ``{path: array}``, checking each link and object.

    Uses h5py's low-level API: link types come from the link table (nothing is dereferenced until
    it is known to be a hard link), which is also several times faster than the high-level walk.
    """
    h5l, h5o = h5py.h5l, h5py.h5o
    out: dict = {}
    visited: set = set()
    budget = [0]

    def walk(gid, prefix, depth):
        if depth > _MAX_H5_DEPTH:
            raise InvalidArchiveError("The HDF5 weights file nests groups too deeply.")
        links: list = []
        gid.links.iterate(lambda name, info: links.append((name, info.type)), info=True)
        for raw_name, link_type in links:
            budget[0] += 1
            if budget[0] > _MAX_H5_OBJECTS:
                raise InvalidArchiveError("The HDF5 weights file holds too many objects.")
            name = raw_name.decode("utf-8", "replace")
            key = f"{prefix}/{name}" if prefix else name
            if link_type == h5l.TYPE_EXTERNAL:
                filename, path = (v.decode("utf-8", "replace") for v in gid.links.get_val(raw_name))
                raise UnsafeModelError(f"Refused HDF5 external link {key!r} -> {filename!r}:{path!r}: a weights "
                                       "file may not reach into other files.")
            if link_type != h5l.TYPE_HARD:
                kind = {h5l.TYPE_SOFT: "SoftLink"}.get(link_type, f"type {link_type}")
                raise UnsafeModelError(f"Refused HDF5 link {key!r} of type {kind}: only plain groups and datasets "
                                       "are loaded.")
            info = h5o.get_info(gid, raw_name)
            ident = getattr(info, "token", None) or getattr(info, "addr", None)
            if ident in visited:
                raise InvalidArchiveError(f"HDF5 object {key!r} is linked more than once (a cycle or alias); "
                                          "refusing a malformed weights file.")
            visited.add(ident)
            if info.type == h5o.TYPE_GROUP:
                walk(h5o.open(gid, raw_name), key, depth + 1)
            elif info.type == h5o.TYPE_DATASET:
                _check_key(key)
                out[key] = _read_dataset(h5o.open(gid, raw_name), key, h5py, limits)
            else:
                raise UnsafeModelError(f"Refused HDF5 object {key!r} (object type {info.type}); only groups and "
                                       "datasets are loaded.")

    walk(root.id, "", 0)
    return out


def _read_dataset(dsid, key: str, h5py, limits: Limits) -> np.ndarray:
    plist = dsid.get_create_plist()
    if plist.get_layout() == h5py.h5d.VIRTUAL:
        raise UnsafeModelError(f"Refused HDF5 virtual dataset {key!r}: it reads data from other files.")
    if plist.get_external_count():
        files = [plist.get_external(i)[0].decode("utf-8", "replace") for i in range(plist.get_external_count())]
        raise UnsafeModelError(f"Refused HDF5 external dataset {key!r}: its data lives in other files {files!r}.")
    dtype = dsid.dtype
    _check_array_dtype(dtype, key)
    filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    unknown = [f for f in filters if f not in _SAFE_FILTERS]
    if unknown:
        raise UnsafeModelError(f"Refused HDF5 dataset {key!r}: it needs filter plugin(s) {unknown}; only HDF5's "
                               "built-in filters are allowed.")
    space = dsid.get_space()
    if space.get_simple_extent_type() == h5py.h5s.NULL:
        raise InvalidArchiveError(f"HDF5 dataset {key!r} has no dataspace (an empty placeholder), not an array.")
    shape = tuple(int(d) for d in space.shape)
    compressed = bool(filters) or plist.get_layout() == h5py.h5d.CHUNKED
    _check_declared_size(key, shape, dtype, dsid.get_storage_size(), compressed, limits)
    array = np.empty(shape, dtype=dtype)
    if array.size:
        dsid.read(h5py.h5s.ALL, h5py.h5s.ALL, array)
    return array
