"""The devices featherflow computes on, for ``tf.config``: the CPU (NumPy), plus CUDA GPUs when CuPy is installed.

Device visibility, logical-device configurations, memory growth and the other runtime options are recorded
here per process and reported back the way TensorFlow reports them; the memory figures are the process's
resident memory (NumPy allocates from the process heap).

>>> list_physical_devices("CPU")
[PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')]
"""

from __future__ import annotations

import collections
import importlib.util
import os

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])
LogicalDeviceConfiguration = collections.namedtuple(
    "LogicalDeviceConfiguration", ["memory_limit", "experimental_priority", "experimental_device_ordinal"],
    defaults=(None, None, None))

_state: dict = {"visible": None, "logical": {}, "growth": {}, "soft_placement": True, "peak": 0, "options": {},
                "jit": False, "determinism": False, "tf32": True, "policy": "silent", "synchronous": True}


def _gpu_count() -> int:
    if importlib.util.find_spec("cupy") is None:
        return 0
    try:
        import cupy

        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # noqa: BLE001 - no driver or no device: no GPU to list
        return 0


def list_physical_devices(device_type=None) -> list:
    """The devices of this machine: ``CPU:0`` and ``GPU:i`` for each CUDA device CuPy sees."""
    devices = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    devices += [PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in range(_gpu_count())]
    return [d for d in devices if device_type is None or d.device_type == str(device_type).upper()]


def _check_physical(device, op):
    if not isinstance(device, PhysicalDevice) or device not in list_physical_devices():
        raise ValueError(f"{op}: unrecognized device {device!r}. Pass one of config.list_physical_devices().")
    return device


def get_visible_devices(device_type=None) -> list:
    visible = _state["visible"] if _state["visible"] is not None else list_physical_devices()
    return [d for d in visible if device_type is None or d.device_type == str(device_type).upper()]


def set_visible_devices(devices, device_type=None) -> None:
    """Restrict the devices featherflow may use (the CPU always stays visible)."""
    devices = [devices] if isinstance(devices, PhysicalDevice) else list(devices)
    for d in devices:
        _check_physical(d, "set_visible_devices")
    kind = None if device_type is None else str(device_type).upper()
    others = [d for d in get_visible_devices() if kind is not None and d.device_type != kind]
    chosen = others + [d for d in devices if kind is None or d.device_type == kind]
    if not any(d.device_type == "CPU" for d in chosen):
        chosen.insert(0, list_physical_devices("CPU")[0])
    _state["visible"] = chosen


def list_logical_devices(device_type=None) -> list:
    """The logical devices: one per visible physical device, or several where a configuration splits it."""
    out = []
    counters: dict = {}
    for device in get_visible_devices():
        for _ in _state["logical"].get(device.name) or [None]:
            index = counters.get(device.device_type, 0)
            counters[device.device_type] = index + 1
            out.append(LogicalDevice(f"/device:{device.device_type}:{index}", device.device_type))
    return [d for d in out if device_type is None or d.device_type == str(device_type).upper()]


def set_logical_device_configuration(device, logical_devices) -> None:
    _check_physical(device, "set_logical_device_configuration")
    configs = list(logical_devices) if logical_devices is not None else None
    if configs is not None and not all(isinstance(c, LogicalDeviceConfiguration) for c in configs):
        raise ValueError("set_logical_device_configuration: logical_devices must be LogicalDeviceConfiguration "
                         "objects.")
    _state["logical"][device.name] = configs


def get_logical_device_configuration(device):
    _check_physical(device, "get_logical_device_configuration")
    return _state["logical"].get(device.name)


def set_memory_growth(device, enable) -> None:
    """Record memory growth for a GPU (CuPy grows its pool on demand already); refused for the CPU as in
    TensorFlow."""
    _check_physical(device, "set_memory_growth")
    if device.device_type != "GPU":
        raise ValueError(f"Cannot set memory growth on non-GPU devices. Received: {device.name}")
    _state["growth"][device.name] = bool(enable)


def get_memory_growth(device) -> bool:
    _check_physical(device, "get_memory_growth")
    if device.device_type != "GPU":
        raise ValueError(f"Cannot get memory growth on non-GPU devices. Received: {device.name}")
    return _state["growth"].get(device.name, False)


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _parse_device(device) -> str:
    name = device if isinstance(device, str) else getattr(device, "name", "")
    kind = name.upper().split(":")[-2].split("/")[-1] if ":" in name else name.upper()
    if kind not in ("CPU", "GPU"):
        raise ValueError(f"Unknown device: {device!r}. Expected e.g. 'CPU:0' or 'GPU:0'.")
    return kind


def get_memory_info(device) -> dict:
    """``{"current": bytes, "peak": bytes}``: the process's resident memory for the CPU (CuPy's pool for a GPU)."""
    if _parse_device(device) == "GPU":
        import cupy

        pool = cupy.get_default_memory_pool()
        return {"current": int(pool.used_bytes()), "peak": int(pool.total_bytes())}
    current = _resident_bytes()
    _state["peak"] = max(_state["peak"], current)
    return {"current": current, "peak": _state["peak"]}


def reset_memory_stats(device) -> None:
    _parse_device(device)
    _state["peak"] = _resident_bytes()


def set_option(key, value) -> None:
    _state[key] = value


def get_option(key):
    return _state[key]
