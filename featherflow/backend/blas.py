"""The compute context of fit/evaluate/predict: BLAS threads chosen per product size, denormals flushed to zero.

NumPy's OpenBLAS reads ``OPENBLAS_NUM_THREADS`` (or ``OMP_NUM_THREADS``) only when it loads; later changes
go through its ``openblas_set_num_threads`` entry point, which this module finds with ``ctypes`` in the
OpenBLAS that NumPy loaded (``scipy-openblas`` wheels prefix and suffix the names). Without OpenBLAS (MKL,
Accelerate, CuPy) every function here is a harmless no-op.

Policy: use the machine's cores, as TensorFlow and PyTorch do, on every machine (2-core ones included), where
the size of a product pays for a second thread. Every op with a large product (dense, matmul, convolutions,
recurrent and attention kernels) calls ``use_threads_for(multiply_adds)`` first, in ``fit`` and in eager code or
custom training loops alike: a product of fewer than ``threshold`` multiply-adds runs on one thread, a larger one
on the full count; featherflow's own batch-split copies (``ops.conv_utils.split_batch``) use the same count.
The full count is

1. ``tf.config.threading.set_intra_op_parallelism_threads(n)`` when set (OpenBLAS's count is set at once;
   ``0`` restores the default policy);
2. else the count OpenBLAS started with: the number of cores, unless ``OPENBLAS_NUM_THREADS`` /
   ``OMP_NUM_THREADS`` pinned it when NumPy loaded; lowered while other processes keep cores busy: one thread
   less per busy core, measured from ``/proc/stat`` at most every ``LOAD_WINDOW_S`` (a first estimate from the
   load average). A pinned count (1., the environment variables, op determinism) never adapts;
   ``FEATHERFLOW_BLAS_ADAPTIVE=0`` turns the adaptation off.

Idle workers: after a threaded product OpenBLAS's workers spin for 2**28 cycles (~0.1 s) by default before
they sleep, so from a step's first threaded product to its end a second core is busy doing nothing: featherflow's
own threads (``split_batch``, the attention and Adam kernels) and other processes lose it. Measured on the 2-core
machine: 101 ms of CPU during a 0.3 s sleep after one threaded product, 0.1 ms with the limit; a DCGAN step took
88 ms of CPU (62 with the limit), an LSTM(64) epoch 2.67 s (1.89), a seed MLP epoch 0.90 s (0.78), each as fast or
faster in wall time. So featherflow sets ``OPENBLAS_THREAD_TIMEOUT`` to ``SPIN_EXPONENT`` when it finds OpenBLAS
(``_limit_spin``) unless the user set it or ``FEATHERFLOW_BLAS_SPIN=default``.

``managed()`` (fit/evaluate/predict) flushes denormals, reuses per-step memory and puts OpenBLAS's count back as
it found it. OpenBLAS's own size rule (``m*n*k / 262,144`` threads, one below 524,288 multiply-adds) agrees with
the measurement below, so NumPy code outside featherflow behaves alike.

Determinism: OpenBLAS's results depend on its thread count (a 32x784x128 float32 product differs by ~6e-5
between one and two threads), so with ``tf.config.experimental.enable_op_determinism()`` the full count is
pinned to what OpenBLAS started with (or the intra-op setting) and a product's count depends on its size only:
two seeded runs are bit-identical. Split copies write disjoint rows, so they never change results.

Measured on the 2-core benchmark machine (AMD EPYC, OpenBLAS 0.3.31, float32 ``np.matmul``, median of
repeated calls, ``python benchmarks/blas_threads.py``; load average 0.97-1.06):

=====================================  ========  ==========  ===========  =========
product (m x k x n)                    M MACs    1 thread    2 threads    1t / 2t
=====================================  ========  ==========  ===========  =========
Dense 32x128x10                        0.04      3 us        3 us         1.00
Dense 64x64x64                         0.26      8 us        8 us         1.00 (*)
Dense 32x100x128                       0.41      11.7 us     11.7 us      1.00 (*)
Dense 32x128x128                       0.52      15 us       11-13 us     1.21-1.37
Dense 32x256x128                       1.05      29-35 us    18 us        1.64-1.89
Dense 32x784x128 (seed MLP)            3.21      81-83 us    51-73 us     1.13-1.59
weight gradient 784x32x128             3.21      85 us       44 us        1.93
LSTM(128) gates 64x128x512             4.19      102 us      58-64 us     1.61-1.75
Dense 128x784x256                      25.7      561 us      310 us       1.81
conv 3x3x32->64, 128 images 13x13      399       11.9 ms     6.5 ms       1.84
Dense 1024x1024x1024                   1074      23.8 ms     12.0 ms      1.99
=====================================  ========  ==========  ===========  =========

(*) OpenBLAS runs these on one thread whatever its count. A second thread pays from about 0.5M
multiply-adds, hence ``DEFAULT_THRESHOLD = 524_288``.

Why the load matters: with other processes on both cores (load average 2.1-4.1, products between other
single-threaded work, as in a training step) two threads cost 1469 -> 9043 us for a 67M product and
35.6 -> 55.8 ms for 1074M (the helper thread waits to be scheduled); one epoch-third of the seed MLP (625
steps) took 0.3-0.6 s with one thread and 1.4-10 s with two at load 1.7-5.7. With the adaptation it took
0.55-0.60 s at load 5.1-5.9, the one-thread figure. The DCGAN step of ``benchmarks/dcgan_step.py`` (a custom
loop, outside ``fit``) took 1684 ms with OpenBLAS's own two threads and 394 ms with this policy at load ~7. At
load 4.1 alone (``benchmarks/results.md``), products up to 67M multiply-adds still gained 1.2-1.9x from a
second thread and larger ones lost (0.37-0.78x): the measure is the cores left free, not the size alone.

>>> from featherflow.backend import blas
>>> blas.use_threads_for(32 * 128 * 10)   # a small product runs on one thread
>>> isinstance(blas.get_num_threads(), int)
True
"""

from __future__ import annotations

import os
import time

from featherflow.backend import allocator

# multiply-adds from which a second thread pays on the 2-core benchmark machine (see the module docstring)
DEFAULT_THRESHOLD = 524_288
# OpenBLAS's idle workers spin 2**n cycles (n = 28 by default, about 0.1 s) before they sleep: through a whole
# training step after its first threaded product, taking a core from featherflow's own threads and from other
# processes. 2**18 cycles (~0.1 ms) still covers the gaps between products run back to back.
SPIN_EXPONENT = 18

_SET_NAMES = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
              "openblas_set_num_threads")
_GET_NAMES = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads", "openblas_get_num_threads64_",
              "openblas_get_num_threads")

# MXCSR bits: flush results that would be denormal to zero (FTZ), read denormal inputs as zero (DAZ)
_FTZ_DAZ = 0x8040

_state = {"loaded": False, "fenv": None, "set": None, "get": None, "active": 0, "current": None, "full": None,
          "threshold": int(os.environ.get("FEATHERFLOW_BLAS_THRESHOLD", DEFAULT_THRESHOLD)), "user": None,
          "initial": None, "deterministic": False, "env_pin": False, "adaptive": False, "next_check": 0.0,
          "sample": None, "free_cores": None, "free": 1,
          "load_adaptive": os.environ.get("FEATHERFLOW_BLAS_ADAPTIVE", "1") != "0", "on": True, "spin": None}
_PIN_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
LOAD_WINDOW_S = 0.5  # the free cores are re-measured at most this often during fit/evaluate/predict
# Read-only for hot paths: THREADS["on"] is false once it is known that the count cannot be set (no OpenBLAS),
# so a kernel run per layer call can skip ``use_threads_for``; THREADS["active"] is non-zero inside ``managed()``.
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
            _state["initial"] = int(getter())  # OpenBLAS's count at load: the cores, or the environment's pin
            _state["env_pin"] = any(os.environ.get(v, "").strip() for v in _PIN_VARIABLES)
            _state["current"] = _state["initial"]
            _limit_spin(lib)
            _configure()
            return
    _state["on"] = False


def _limit_spin(lib) -> None:
    """Let OpenBLAS's idle worker threads sleep after ``2**SPIN_EXPONENT`` cycles instead of its default 2**28
    (~0.1 s of spinning after every threaded product: see ``SPIN_EXPONENT``). OpenBLAS reads the setting
    (``OPENBLAS_THREAD_TIMEOUT``) when it starts its threads, so it is put in the environment, read again
    (``openblas_read_env``) and the idle workers are stopped (``blas_thread_shutdown_``, as OpenBLAS does
    around ``fork``); the next threaded product starts them with the new setting. Left alone when the user
    set ``OPENBLAS_THREAD_TIMEOUT``, when another Python thread exists (it could be inside OpenBLAS now), and
    with ``FEATHERFLOW_BLAS_SPIN=default``."""
    import threading

    if os.environ.get("OPENBLAS_THREAD_TIMEOUT", "").strip() or \
            os.environ.get("FEATHERFLOW_BLAS_SPIN", "").strip() == "default" or threading.active_count() > 1:
        return
    read_env = getattr(lib, "openblas_read_env", None)
    shutdown = getattr(lib, "blas_thread_shutdown_", None)
    if read_env is None or shutdown is None:
        return
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = str(SPIN_EXPONENT)
    read_env.argtypes, read_env.restype = [], None
    shutdown.argtypes, shutdown.restype = [], None
    read_env()
    shutdown()
    _state["spin"] = SPIN_EXPONENT


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


def initial_threads() -> int:
    """OpenBLAS's thread count when NumPy loaded it (the cores, or ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``)."""
    return _state["initial"] if available() else 1


def _configure() -> None:
    """The full count and whether it adapts to the load, from the settings (see the module docstring)."""
    _state["full"] = full = full_threads()
    _state["adaptive"] = full > 1 and _state["load_adaptive"] and not (
        _state["user"] or _state["deterministic"] or _state["env_pin"])
    if _state["adaptive"]:
        if _state["free_cores"] is None:
            # a first estimate from the load average (it counts this process too, when running), replaced by
            # a measurement of /proc/stat within LOAD_WINDOW_S
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
            _state["free_cores"] = (os.cpu_count() or 1) - max(0.0, load - 1.0)
            _state["sample"], _state["next_check"] = _cpu_sample(), time.monotonic() + LOAD_WINDOW_S
        _state["free"] = _threads_for_free(_state["free_cores"])


def set_user_threads(n: int | None) -> None:
    """Pin the thread count (``tf.config.threading.set_intra_op_parallelism_threads``): OpenBLAS's count is set
    now and every product uses it (none below the size threshold). ``None``/0 restores the default policy."""
    _state["user"] = int(n) if n else None
    if available():
        _configure()
        set_num_threads(_state["full"])


def set_load_adaptive(enabled: bool) -> None:
    """Whether the full count follows the cores other processes leave free (default True;
    ``FEATHERFLOW_BLAS_ADAPTIVE=0`` turns it off): off, large products always use the full count."""
    _state["load_adaptive"] = bool(enabled)
    if available():
        _configure()


def set_deterministic(enabled: bool) -> None:
    """``enable_op_determinism``: a product's thread count depends on its size only (no load adaptation)."""
    _state["deterministic"] = bool(enabled)
    if available():
        _configure()


def set_threshold(macs: int) -> None:
    """Multiply-adds from which a product uses more than one thread."""
    _state["threshold"] = int(macs)


def full_threads() -> int:
    """The thread count for large products and split copies: the intra-op setting, else the count OpenBLAS
    started with (the cores, or the environment variables' pin)."""
    return _state["user"] or initial_threads()


def parallel_workers(default: int) -> int:
    """How many threads featherflow's own parallel copies may use: at most ``default`` and at most the count a
    large product would use now."""
    if not available():
        return default
    return max(1, min(default, _state["free"] if _state["adaptive"] else _state["full"]))


def _cpu_sample():
    """``(all CPUs' jiffies, idle jiffies, this process's CPU seconds)`` from ``/proc/stat``; None elsewhere."""
    try:
        with open("/proc/stat", "rb") as stat:
            fields = stat.readline().split()[1:9]  # user nice system idle iowait irq softirq steal
    except OSError:
        return None
    values = [int(v) for v in fields]
    return sum(values), values[3] + values[4], time.process_time()


def free_cores(previous, current) -> float | None:
    """Cores not used by other processes between two ``_cpu_sample()`` readings (this process's own use, its
    BLAS threads' included, counts as free: it is the work being scheduled)."""
    if previous is None or current is None or current[0] <= previous[0]:
        return None
    cores = os.cpu_count() or 1
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    wall = (current[0] - previous[0]) / ticks / cores  # seconds per core in the window
    busy = (current[0] - previous[0] - (current[1] - previous[1])) / ticks
    others = max(0.0, busy - (current[2] - previous[2])) / wall
    return max(0.0, cores - others)


def _threads_for_free(free: float) -> int:
    """All of the full count while the cores are free; one thread less per core other processes keep busy."""
    return max(1, min(_state["full"], int(free + 0.5)))


def _refresh_load(now: float) -> None:
    sample = _cpu_sample()
    free = free_cores(_state["sample"], sample)
    _state["sample"], _state["next_check"] = sample, now + LOAD_WINDOW_S
    if free is not None:
        _state["free_cores"] = free
        _state["free"] = _threads_for_free(free)


def use_threads_for(macs: int) -> None:
    """Pick OpenBLAS's thread count for a product of ``macs`` multiply-adds (every op with a large product calls
    this before it; a no-op without OpenBLAS)."""
    if not _state["on"]:
        return
    if _state["full"] is None:  # first call: find OpenBLAS
        if not available():
            _state["on"] = False
            return
    if macs < _state["threshold"]:
        want = 1
    elif _state["adaptive"]:
        now = time.monotonic()
        if now >= _state["next_check"]:
            _refresh_load(now)
        want = _state["free"]
    else:
        want = _state["full"]
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
    """Context of fit/evaluate/predict: denormals flushed, per-step memory reused, and OpenBLAS's count as it was
    before restored after (products pick their thread count everywhere, see ``use_threads_for``)."""

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
