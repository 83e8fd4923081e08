"""Restricted unpickling for data files: plain containers, numbers, strings and NumPy arrays only.

The CIFAR ``python`` batches are pickled dicts whose ``b"data"`` entry is a NumPy uint8 array,
and imdb/reuters ``.npz`` files hold object arrays of Python lists (stored as pickles). General
unpickling of a downloaded file would let it run arbitrary code, so this unpickler resolves no
global except the few NumPy needs to rebuild a plain array, each through a guard, and the result
is walked to make sure it holds only dict/list/tuple/str/bytes/int/float/bool/None/ndarray.

>>> import pickle, numpy as np
>>> restricted_loads(pickle.dumps({"data": np.arange(3, dtype=np.uint8), "labels": [1, 2]}))
{'data': array([0, 1, 2], dtype=uint8), 'labels': [1, 2]}

A pickle that would run a shell command when loaded is refused before anything runs:

>>> restricted_loads(b"cos\\nsystem\\n(S'echo pwned'\\ntR.")  # doctest: +ELLIPSIS
Traceback (most recent call last):
_pickle.UnpicklingError: Refusing to load 'os.system': only plain arrays, lists, dicts, strings and numbers...
"""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np

_SCALAR_TYPES = (str, bytes, int, float, bool, complex, type(None))
_ARRAY_KINDS = set("biufcSUO")


class _NdarrayType:
    """Stands in for ``numpy.ndarray`` during unpickling; only ``_reconstruct`` accepts it."""

    def __repr__(self) -> str:
        return "numpy.ndarray"


_NDARRAY = _NdarrayType()


def _reconstruct(subtype, shape, typecode):
    # NumPy pickles an array as `_reconstruct(ndarray, (0,), b"b")` followed by `__setstate__`
    # with the real shape, dtype and raw bytes; anything else is not a plain array.
    if subtype is not _NDARRAY:
        raise pickle.UnpicklingError(f"Refusing to reconstruct an array of type {subtype!r}.")
    if not isinstance(shape, tuple) or any(not isinstance(n, int) or n != 0 for n in shape):
        raise pickle.UnpicklingError(f"Unexpected initial array shape {shape!r} in a pickled array.")
    if isinstance(typecode, bytes):
        typecode = typecode.decode("latin1")
    return np.empty(shape, dtype=np.dtype(typecode))


def _dtype(spec, align=False, copy=True):
    if isinstance(spec, bytes):
        spec = spec.decode("latin1")
    if not isinstance(spec, str):
        raise pickle.UnpicklingError(f"Refusing a dtype built from {spec!r}.")
    dtype = np.dtype(spec, bool(align), bool(copy))
    if dtype.kind not in _ARRAY_KINDS:
        raise pickle.UnpicklingError(f"Refusing an array of dtype {dtype}.")
    return dtype


def _encode(text, encoding="utf-8"):
    # Python 3 writes `bytes` in protocol <= 2 pickles as `_codecs.encode(str, "latin1")`.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("Refusing a `_codecs.encode` call other than the one pickle uses for bytes.")
    return text.encode("latin1")


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` whose ``find_class`` allows only the guarded NumPy array rebuild."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"Refusing to load '{module}.{name}': only plain arrays, lists, dicts, strings and numbers "
                "are accepted in data files."
            ) from None


def check_plain(obj, _depth: int = 0):
    """Raises ``pickle.UnpicklingError`` unless ``obj`` holds only plain containers, scalars and arrays."""
    if _depth > 100:
        raise pickle.UnpicklingError("Data nested too deeply.")
    if isinstance(obj, _SCALAR_TYPES):
        return obj
    if isinstance(obj, dict):
        for key, value in obj.items():
            check_plain(key, _depth + 1)
            check_plain(value, _depth + 1)
        return obj
    if isinstance(obj, (list, tuple)):
        for item in obj:
            check_plain(item, _depth + 1)
        return obj
    if type(obj) is np.ndarray:
        if obj.dtype.kind not in _ARRAY_KINDS or obj.dtype.fields is not None:
            raise pickle.UnpicklingError(f"Refusing an array of dtype {obj.dtype}.")
        if obj.dtype.hasobject:
            for item in obj.flat:
                check_plain(item, _depth + 1)
        return obj
    raise pickle.UnpicklingError(f"Refusing an object of type {type(obj).__name__} in a data file.")


def restricted_load(file, encoding: str = "ASCII"):
    """Unpickles plain data from a binary file object (see module docstring for what is accepted)."""
    return check_plain(RestrictedUnpickler(file, encoding=encoding).load())


def restricted_loads(data: bytes, encoding: str = "ASCII"):
    """``restricted_load`` from bytes."""
    return restricted_load(io.BytesIO(data), encoding=encoding)


def _read_npy_header(fp):
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fp)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fp)
    return np.lib.format._read_array_header(fp, version)  # version 3.0 (utf-8 field names)


def load_npz(path) -> dict:
    """All arrays of an ``.npz`` file; object arrays are unpickled by ``RestrictedUnpickler``.

    Returns:
        dict name -> ndarray (names without the ``.npy`` suffix).
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            name = info.filename[: -len(".npy")]
            with archive.open(info) as fp:
                shape, _fortran, dtype = _read_npy_header(fp)
                if dtype.hasobject:
                    array = restricted_load(fp, encoding="latin1")
                    if type(array) is not np.ndarray or array.shape != tuple(shape):
                        raise pickle.UnpicklingError(f"Member {name!r} of {path} is not the array its header declares.")
                    arrays[name] = array
                    continue
            with archive.open(info) as fp:
                arrays[name] = np.lib.format.read_array(fp, allow_pickle=False)
    return arrays
