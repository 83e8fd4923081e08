"""The compute context of fit/evaluate/predict: BLAS threads set at run time, denormals flushed to zero.

NumPy's OpenBLAS reads ``OPENBLAS_NUM_THREADS`` only when it loads; later changes go through its
``openblas_set_num_threads`` entry point, which this module finds with ``ctypes`` in the OpenBLAS that
NumPy loaded (``scipy-openblas`` wheels prefix and suffix the names). Without OpenBLAS (MKL, Accelerate,
CuPy) every function here is a harmless no-op.

Why featherflow cares: on a machine with few cores a small product (a batch of 32 through a 784x128
layer: 3.2M multiply-adds) is done before a second thread has started working, and when other processes
keep the cores busy a multithreaded OpenBLAS waits for descheduled helper threads. Measured on the 2-core
benchmark machine under load (``benchmarks/seed_mlp.py``): one training step of the seed MLP took 2.3 ms
of CPU with one BLAS thread and 17-20 ms with two. Large products (convolutions as one GEMM) still gain
from every core.

Policy (deterministic, so seeded runs stay bit-identical: OpenBLAS's results depend on its thread count):
while ``fit``/``evaluate``/``predict`` run, a product of fewer than ``threshold`` multiply-adds uses one
thread and a larger one the full count. The full count is
``featherflow.config.threading.set_intra_op_parallelism_threads(n)`` when set; else 1 on a machine with at
most 2 cores (measured there under the usual shared load: the small CNN's steps took 4x longer with two
threads, 2.4 s vs 9.6 s for 10 steps, and the best case of a second thread on an idle machine is under 2x),
else what OpenBLAS started with. featherflow's own batch-split copies (``ops.conv_utils.split_batch``) follow the
same count. Outside fit/evaluate/predict featherflow leaves the user's setting alone.

>>> from featherflow.backend import blas
>>> with blas.managed():  # inside fit/evaluate/predict
...     blas.use_threads_for(32 * 784 * 128)   # a small product runs on one thread
>>> isinstance(blas.get_num_threads(), int)
True
"""

from __future__ import annotations

import os

from featherflow.backend import allocator

# multiply-adds below which one thread wins on a 2-core machine (see the module docstring)
DEFAULT_THRESHOLD = 16_000_000

_SET_NAMES = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
              "openblas_set_num_threads")
_GET_NAMES = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads", "openblas_get_num_threads64_",
              "openblas_get_num_threads")

# MXCSR bits: flush results that would be denormal to zero (FTZ), read denormal inputs as zero (DAZ)
_FTZ_DAZ = 0x8040

_state = {"loaded": False, "fenv": None, "set": None, "get": None, "active": 0, "current": None, "full": None,
          "threshold": int(os.environ.get("FEATHERFLOW_BLAS_THRESHOLD", DEFAULT_THRESHOLD)), "user": None}
# Read-only for hot paths: THREADS["active"] is non-zero inside ``managed()``, the only time ``use_threads_for``
# does anything, so a kernel run per layer call can skip that call outside fit/evaluate/predict.
THREADS = _state


def _openblas_paths() -> list:
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.rsplit(None, 1)[-1]
                name = os.path.basename(path).lower()
                if "openblas" in name and ".so" in name and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    return paths


def _load() -> None:
    _state["loaded"] = True
    import ctypes  # here, not at module level: `import featherflow` stays cheap

    import numpy as np

    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # make sure the BLAS library is loaded
    for path in _openblas_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = next((getattr(lib, n) for n in _SET_NAMES if hasattr(lib, n)), None)
        getter = next((getattr(lib, n) for n in _GET_NAMES if hasattr(lib, n)), None)
        if setter is not None and getter is not None:
            setter.argtypes, setter.restype = [ctypes.c_int], None
            getter.argtypes, getter.restype = [], ctypes.c_int
            _state["set"], _state["get"] = setter, getter
            return


def available() -> bool:
    """True when the BLAS thread count can be changed at run time (NumPy on OpenBLAS)."""
    if not _state["loaded"]:
        _load()
    return _state["set"] is not None


def get_num_threads() -> int:
    """The BLAS thread count now (1 when it cannot be read)."""
    return int(_state["get"]()) if available() else 1


def set_num_threads(n: int) -> None:
    """Set the BLAS thread count (no-op without OpenBLAS)."""
    if available():
        _state["set"](int(n))
        _state["current"] = int(n)


def set_user_threads(n: int | None) -> None:
    """The full thread count featherflow uses for large products (``None``/0: OpenBLAS's own count)."""
    _state["user"] = int(n) if n else None


def set_threshold(macs: int) -> None:
    """Multiply-adds from which a product uses all threads during fit/evaluate/predict."""
    _state["threshold"] = int(macs)


def full_threads(started: int | None = None) -> int:
    """The thread count for large products and split copies during fit/evaluate/predict (see the policy)."""
    if _state["user"]:
        return _state["user"]
    if (os.cpu_count() or 1) <= 2:
        return 1
    return started if started is not None else get_num_threads()


def parallel_workers(default: int) -> int:
    """How many threads featherflow's own parallel copies may use: ``default`` outside fit/evaluate/predict."""
    return min(default, _state["full"]) if _state["active"] else default


def use_threads_for(macs: int) -> None:
    """Inside ``managed()``: pick the thread count for a product of ``macs`` multiply-adds."""
    if not _state["active"]:
        return
    want = 1 if macs < _state["threshold"] else _state["full"]
    if want != _state["current"]:
        _state["set"](want)
        _state["current"] = want


def _fenv():
    """``(fegetenv, fesetenv, buffer)`` for glibc on x86-64 (MXCSR at byte 28 of fenv_t), else None."""
    if _state["fenv"] is None:
        _state["fenv"] = False
        import platform
        import sys

        if sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64"):
            import ctypes
            import ctypes.util

            try:
                libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
                get, put = libm.fegetenv, libm.fesetenv
            except (OSError, AttributeError):
                return None
            buf = (ctypes.c_uint32 * 8)()  # fenv_t is 32 bytes; word 7 is the SSE control register
            if get(buf) == 0:
                _state["fenv"] = (get, put, buf)
    return _state["fenv"] or None


def flush_denormals(enabled: bool) -> bool | None:
    """Set this thread's flush-to-zero / denormals-are-zero mode; returns the previous mode (None: unsupported).

    Denormal floats (below 1.2e-38 in float32) are 10-100x slower in every arithmetic unit. Adam's first
    moment of a weight whose gradient has been zero for ~800 steps decays into them (m *= 0.9 per step):
    measured on the seed MLP, 17,821 of 101,770 moments were denormal after ~1,900 steps and the update
    took 108 us instead of 48. TensorFlow flushes denormals on the CPU; featherflow does the same inside
    fit/evaluate/predict and restores the caller's mode after.
    """
    env = _fenv()
    if env is None:
        return None
    get, put, buf = env
    get(buf)
    previous = bool(buf[7] & _FTZ_DAZ == _FTZ_DAZ)
    if previous != enabled:
        buf[7] = (buf[7] | _FTZ_DAZ) if enabled else (buf[7] & ~_FTZ_DAZ & 0xFFFFFFFF)
        put(buf)
    return previous


class managed:
    """Context of fit/evaluate/predict: products pick their thread count; the user's count is restored after."""

    __slots__ = ("_saved", "_entered", "_flush", "_retained")

    def __enter__(self):
        self._entered = False
        self._saved = None
        self._flush = flush_denormals(True)
        self._retained = allocator.retain()  # per-step temporaries reuse freed memory (backend/allocator.py)
        if available():
            self._entered = True
            if not _state["active"]:
                self._saved = get_num_threads()
                _state["full"] = full_threads(self._saved)
                _state["current"] = self._saved
            _state["active"] += 1
        return self

    def __exit__(self, *exc):
        if self._flush is False:
            flush_denormals(False)
        if self._retained:
            allocator.release()
        if self._entered:
            _state["active"] -= 1
            if not _state["active"] and self._saved is not None and _state["current"] != self._saved:
                _state["set"](self._saved)
                _state["current"] = self._saved
        return False
