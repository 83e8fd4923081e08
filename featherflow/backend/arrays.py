"""The array module every op computes with, and the default float type.

All array code in featherflow calls ``xp()`` (or ``array_module(array)``) instead of
importing NumPy directly, so selecting CuPy moves every op to the GPU unchanged.
"""

from __future__ import annotations

import numpy as np

_state = {"xp": np, "name": "numpy", "floatx": "float32", "epsilon": 1e-7}
_VALID_FLOATX = ("float16", "float32", "float64")


def xp():
    """Return the active array module (``numpy`` unless CuPy was selected).

    >>> xp().__name__
    'numpy'
    """
    return _state["xp"]


def array_module(*arrays):
    """Return the array module that owns ``arrays`` (CuPy arrays -> cupy, else the active module)."""
    for a in arrays:
        if type(a) is np.ndarray:  # the common case, decided without string work
            continue
        module = type(a).__module__
        if module.startswith("cupy"):
            import cupy  # optional dependency, only reached with CuPy arrays

            return cupy
    return _state["xp"]


def get_backend() -> str:
    """Name of the active array module: ``"numpy"`` or ``"cupy"``."""
    return _state["name"]


def set_backend(name: str) -> None:
    """Select the array module: ``"numpy"`` (default) or ``"cupy"`` (needs ``featherflow[gpu]``).

    >>> set_backend("numpy")
    """
    if name == "numpy":
        _state.update(xp=np, name="numpy")
        return
    if name == "cupy":
        try:
            import cupy
        except ImportError as exc:
            raise ImportError(
                'The "cupy" backend needs CuPy. Install it with: pip install "featherflow[gpu]"'
            ) from exc
        _state.update(xp=cupy, name="cupy")
        return
    raise ValueError(f'Unknown backend. Expected "numpy" or "cupy". Received: name={name!r}')


def floatx() -> str:
    """Default float type as a string (``"float32"`` unless changed with ``set_floatx``)."""
    return _state["floatx"]


def set_floatx(value: str) -> None:
    """Set the default float type: ``"float16"``, ``"float32"`` or ``"float64"``.

    >>> set_floatx("float64"); floatx()
    'float64'
    >>> set_floatx("float32")
    """
    if not isinstance(value, str):
        try:
            value = np.dtype(value).name
        except TypeError:
            pass  # reported below, with the valid choices
    if value not in _VALID_FLOATX:
        raise ValueError(f"Unknown floatx type. Expected one of {_VALID_FLOATX}. Received: value={value!r}")
    _state["floatx"] = value


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (Keras default ``1e-7``)."""
    return _state["epsilon"]


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by ``epsilon()``."""
    _state["epsilon"] = float(value)


def to_numpy(array) -> np.ndarray:
    """Return ``array`` as a NumPy array (copies CuPy arrays to the host)."""
    if type(array).__module__.startswith("cupy"):
        return array.get()
    if getattr(array, "_ff_traced", False):  # a value being traced by tf.function: leaving the program
        return array.__array__()
    return np.asarray(array)
