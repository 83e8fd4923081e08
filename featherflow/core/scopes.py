"""Scopes of TensorFlow's eager API: ``name_scope``, ``init_scope``, ``control_dependencies``, ``device`` and
``DeviceSpec``.

``name_scope`` is per thread (``core/runtime.py``) and prefixes the names of variables created inside it
(``foo/v:0``), as TensorFlow does in eager mode. ``init_scope`` pauses the tapes (TensorFlow lifts the code
out of any function and stops recording gradients). In eager execution ops run in program order, so
``control_dependencies`` adds nothing; and featherflow computes on the array backend (NumPy, or CuPy with
``featherflow.backend.set_backend``), so ``device`` validates and records the requested device without moving
work.

>>> with name_scope("encoder"):
...     with name_scope("layer1"):
...         get_current_name_scope()
'encoder/layer1'
"""

from __future__ import annotations

import re

from featherflow.core.runtime import state as _state

_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_./>-]*$")


def get_current_name_scope() -> str:
    """The name scope in force in this thread (``""`` at top level)."""
    return _state.name_scope


class name_scope:  # noqa: N801 - TensorFlow's name
    """Context manager that opens a name scope: ``name`` is appended to the current scope (a name ending in
    ``/`` replaces it); entering returns the full scope with a trailing ``/``.

    Args:
        name: the scope's name (letters, digits, ``._-/>`` as TensorFlow accepts).
    """

    def __init__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"name_scope: `name` must be a string. Received: {name!r}")
        if name and not _NAME.match(name):
            raise ValueError(f"'{name}' is not a valid scope name. A scope name has to match the following pattern: "
                             f"{_NAME.pattern}")
        self._name = name
        self._previous = None

    @property
    def name(self) -> str:
        return self._name

    def _full(self) -> str:
        if self._name.endswith("/"):
            return self._name[:-1]
        current = _state.name_scope
        return f"{current}/{self._name}" if current and self._name else (self._name or current)

    def __enter__(self) -> str:
        self._previous = _state.name_scope
        scope = self._full()
        _state.name_scope = scope
        return scope + "/" if scope else ""

    def __exit__(self, *exc) -> bool:
        _state.name_scope = self._previous
        return False


class init_scope:  # noqa: N801 - TensorFlow's name
    """Context manager: no tape of this thread records inside (the code runs as if outside any function)."""

    def __enter__(self):
        from featherflow.core.tape import pause_all_tapes

        self._pause = pause_all_tapes()
        self._pause.__enter__()
        return None

    def __exit__(self, *exc) -> bool:
        return self._pause.__exit__(*exc)


class control_dependencies:  # noqa: N801 - TensorFlow's name
    """Context manager accepted for TensorFlow code: eager ops already run in program order.

    Args:
        control_inputs: tensors, operations or ``None``; callables are called (TensorFlow runs them).
    """

    def __init__(self, control_inputs):
        if control_inputs is not None and not isinstance(control_inputs, (list, tuple)):
            raise TypeError(f"control_dependencies: control_inputs must be a list of tensors or None. Received: "
                            f"{control_inputs!r:.60}")
        self._inputs = list(control_inputs or [])

    def __enter__(self):
        for item in self._inputs:
            if callable(item) and not hasattr(item, "value"):
                item()
        return None

    def __exit__(self, *exc) -> bool:
        return False


_DEVICE = re.compile(
    r"^(/job:(?P<job>[^/]+))?(/replica:(?P<replica>\d+))?(/task:(?P<task>\d+))?"
    r"(/device:(?P<type1>[A-Za-z_]+):(?P<index1>\d+|\*)|/(?P<type2>[A-Za-z_]+):(?P<index2>\d+|\*))?$")


class DeviceSpec:
    """A device specification ``/job:<job>/replica:<r>/task:<t>/device:<TYPE>:<index>`` (every part optional).

    >>> spec = DeviceSpec.from_string("/job:worker/device:GPU:1")
    >>> spec.job, spec.device_type, spec.device_index, spec.to_string()
    ('worker', 'GPU', 1, '/job:worker/device:GPU:1')
    """

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self._job = job
        self._replica = None if replica is None else int(replica)
        self._task = None if task is None else int(task)
        self._device_type = None if device_type is None else str(device_type).upper()
        self._device_index = None if device_index in (None, "*") else int(device_index)

    @classmethod
    def from_string(cls, spec: str) -> DeviceSpec:
        """Parse a device string (``"/GPU:0"``, ``"/job:ps/task:1/device:CPU:0"``, ``""``)."""
        if not isinstance(spec, str):
            raise TypeError(f"DeviceSpec.from_string expects a string. Received: {spec!r}")
        match = _DEVICE.match(spec)
        if match is None:
            raise ValueError(f"Unknown device specification: {spec!r}. Expected e.g. '/CPU:0', '/GPU:1' or "
                             f"'/job:worker/replica:0/task:0/device:CPU:0'.")
        parts = match.groupdict()
        return cls(parts["job"], parts["replica"], parts["task"], parts["type1"] or parts["type2"],
                   parts["index1"] or parts["index2"])

    def parse_from_string(self, spec: str) -> DeviceSpec:
        return self.from_string(spec)

    job = property(lambda self: self._job)
    replica = property(lambda self: self._replica)
    task = property(lambda self: self._task)
    device_type = property(lambda self: self._device_type)
    device_index = property(lambda self: self._device_index)

    def replace(self, **kwargs) -> DeviceSpec:
        """A copy with some fields replaced."""
        fields = {"job": self._job, "replica": self._replica, "task": self._task,
                  "device_type": self._device_type, "device_index": self._device_index}
        unknown = set(kwargs) - set(fields)
        if unknown:
            raise TypeError(f"DeviceSpec.replace: unknown fields {sorted(unknown)}.")
        fields.update(kwargs)
        return DeviceSpec(**fields)

    def make_merged_spec(self, dev) -> DeviceSpec:
        """This spec with the fields ``dev`` sets overriding its own."""
        fields = {k: getattr(dev, k) for k in ("job", "replica", "task", "device_type", "device_index")
                  if getattr(dev, k) is not None}
        return self.replace(**fields)

    def to_string(self) -> str:
        out = ""
        if self._job is not None:
            out += f"/job:{self._job}"
        if self._replica is not None:
            out += f"/replica:{self._replica}"
        if self._task is not None:
            out += f"/task:{self._task}"
        if self._device_type is not None:
            index = "*" if self._device_index is None else self._device_index
            out += f"/device:{self._device_type}:{index}"
        return out

    def __eq__(self, other) -> bool:
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self) -> int:
        return hash(self.to_string())

    def __repr__(self) -> str:
        return f"<DeviceSpec {self.to_string() or '(any)'}>"


class device:  # noqa: N801 - TensorFlow's name
    """Context manager naming the device for the ops inside (validated; computation stays on the array backend).

    >>> with device("/CPU:0"):
    ...     pass
    """

    def __init__(self, device_name):
        self._spec = None if device_name is None else DeviceSpec.from_string(
            device_name.to_string() if isinstance(device_name, DeviceSpec) else device_name)

    def __enter__(self):
        self._previous = _state.device
        _state.device = self._spec
        return self._spec

    def __exit__(self, *exc) -> bool:
        _state.device = self._previous
        return False


class variable_creator_scope:  # noqa: N801 - TensorFlow's name
    """Context manager: ``tf.Variable(...)`` inside calls ``creator(next_creator, **kwargs)`` (TensorFlow's
    keyword arguments: ``initial_value``, ``trainable``, ``name``, ``dtype``, ``shape``, ``constraint``, ...),
    which may change them, call ``next_creator(**kwargs)`` to make the variable, or return another one.
    Scopes nest; the innermost creator runs first.

    >>> import featherflow as ff
    >>> def rename(next_creator, **kwargs):
    ...     kwargs["name"] = "renamed"
    ...     return next_creator(**kwargs)
    >>> with ff.variable_creator_scope(rename):
    ...     v = ff.Variable(1.0, name="x")
    >>> v.name
    'renamed'
    """

    __slots__ = ("_creator",)

    def __init__(self, variable_creator):
        if not callable(variable_creator):
            raise TypeError(f"variable_creator_scope needs a callable creator. Received: {variable_creator!r}")
        self._creator = variable_creator

    def __enter__(self):
        _state.variable_creators.append(self._creator)
        return self

    def __exit__(self, *exc) -> bool:
        _state.variable_creators.pop()
        return False
