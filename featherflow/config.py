"""``tf.config``: devices (``backend/devices.py``), thread settings, function and optimizer options.

``threading``: how many threads featherflow's large array operations use.

``threading.set_intra_op_parallelism_threads(n)`` pins the thread count of matrix products (and of
featherflow's parallel copies), in ``fit``/``evaluate``/``predict`` and outside; ``0`` restores the default
policy: every core (OpenBLAS's count, which ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` pin when set) for
products from 0.5M multiply-adds, one thread below. ``experimental.enable_op_determinism()`` makes seeded runs
bit-identical. See ``featherflow/backend/blas.py`` for the policy and the measurements.

>>> import featherflow as tf
>>> before = tf.config.threading.get_intra_op_parallelism_threads()  # 0: the default policy
>>> tf.config.threading.set_intra_op_parallelism_threads(2)
>>> tf.config.threading.get_intra_op_parallelism_threads()
2
>>> tf.config.threading.set_intra_op_parallelism_threads(before)  # 0 would restore the default policy
"""

from __future__ import annotations

import types as _types

from featherflow.backend import blas as _blas
from featherflow.backend import devices as _devices
from featherflow.backend.devices import (  # noqa: F401
    LogicalDevice,
    LogicalDeviceConfiguration,
    PhysicalDevice,
    get_logical_device_configuration,
    get_visible_devices,
    list_logical_devices,
    list_physical_devices,
    set_logical_device_configuration,
    set_visible_devices,
)
from featherflow.core.function import functions_run_eagerly, run_functions_eagerly  # noqa: F401

experimental_functions_run_eagerly = functions_run_eagerly
experimental_run_functions_eagerly = run_functions_eagerly


def set_soft_device_placement(enabled: bool) -> None:
    """Allow ops to fall back to another device when the requested one cannot run them (recorded; featherflow
    runs every op on its array backend)."""
    _devices.set_option("soft_placement", bool(enabled))


def get_soft_device_placement() -> bool:
    """Whether soft device placement is on (True by default, as in TensorFlow)."""
    return _devices.get_option("soft_placement")


def _setter(key, cast=bool):
    return lambda value: _devices.set_option(key, cast(value))


def _getter(key):
    return lambda: _devices.get_option(key)


def _device_details(device) -> dict:
    if not isinstance(device, PhysicalDevice):
        raise ValueError(f"get_device_details expects a PhysicalDevice. Received: {device!r}")
    if device.device_type != "GPU":
        return {}
    import cupy

    index = int(device.name.rsplit(":", 1)[-1])
    props = cupy.cuda.runtime.getDeviceProperties(index)
    return {"device_name": props["name"].decode(), "compute_capability": (props["major"], props["minor"])}


def _enable_op_determinism() -> None:
    """``tf.config.experimental.enable_op_determinism``: seeded runs give bit-identical results.

    featherflow's ops are deterministic for a given BLAS thread count (no atomics, no order-dependent parallel
    reductions; split copies write disjoint rows), and the thread count of a product is decided by its size
    alone; this also pins the full count to OpenBLAS's starting count (or the intra-op setting) so that no
    run-time change of OpenBLAS's count changes results between runs.
    """
    _devices.set_option("determinism", True)
    _blas.set_deterministic(True)


experimental = _types.SimpleNamespace(  # tf.config.experimental
    list_physical_devices=list_physical_devices, list_logical_devices=list_logical_devices,
    get_visible_devices=get_visible_devices, set_visible_devices=set_visible_devices,
    get_virtual_device_configuration=get_logical_device_configuration,
    set_virtual_device_configuration=set_logical_device_configuration,
    VirtualDeviceConfiguration=LogicalDeviceConfiguration,
    set_memory_growth=_devices.set_memory_growth, get_memory_growth=_devices.get_memory_growth,
    get_memory_info=_devices.get_memory_info, reset_memory_stats=_devices.reset_memory_stats,
    get_memory_usage=lambda device: _devices.get_memory_info(device)["current"],
    enable_op_determinism=_enable_op_determinism,
    enable_tensor_float_32_execution=_setter("tf32"), tensor_float_32_execution_enabled=_getter("tf32"),
    get_device_policy=_getter("policy"), set_device_policy=_setter("policy", lambda p: p or "silent"),
    get_synchronous_execution=_getter("synchronous"), set_synchronous_execution=_setter("synchronous"),
    get_device_details=_device_details,
)

optimizer = _types.SimpleNamespace(  # tf.config.optimizer
    get_jit=lambda: _devices.get_option("jit") or "", set_jit=_setter("jit", lambda v: v if isinstance(v, str) else
                                                                      ("autoclustering" if v else False)),
    get_experimental_options=lambda: dict(_devices.get_option("options")),
    set_experimental_options=lambda options: _devices.get_option("options").update(dict(options)),
)


class threading:  # noqa: N801 - TensorFlow's name: tf.config.threading
    """``tf.config.threading``."""

    @staticmethod
    def set_intra_op_parallelism_threads(num_threads: int) -> None:
        """Pin the thread count of matrix products and featherflow's parallel copies, everywhere (0: the default
        policy, every core where the product's size pays)."""
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
            raise ValueError(f"set_intra_op_parallelism_threads expects a non-negative int. Received: "
                             f"num_threads={num_threads!r}")
        _blas.set_user_threads(num_threads or None)

    @staticmethod
    def get_intra_op_parallelism_threads() -> int:
        """The count set with ``set_intra_op_parallelism_threads`` (0 when the default policy applies)."""
        return _blas._state["user"] or 0

    @staticmethod
    def set_inter_op_parallelism_threads(num_threads: int) -> None:
        """Accepted for compatibility: featherflow runs one op at a time."""
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
            raise ValueError(f"set_inter_op_parallelism_threads expects a non-negative int. Received: "
                             f"num_threads={num_threads!r}")

    @staticmethod
    def get_inter_op_parallelism_threads() -> int:
        """Always 0 (featherflow runs one op at a time)."""
        return 0
