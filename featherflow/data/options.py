"""``tf.data.Options``: settings attached to a dataset with ``with_options``.

featherflow honours ``deterministic`` (parallel ``map`` keeps the input order unless it is False) and keeps
the other settings so programs that set them run unchanged; optimisation and threading choices that
TensorFlow's runtime makes have no counterpart here and are accepted without effect.

>>> options = Options()
>>> options.deterministic = False
>>> options.experimental_distribute.auto_shard_policy = AutoShardPolicy.DATA
>>> options.deterministic, options.experimental_distribute.auto_shard_policy.name
(False, 'DATA')
"""

from __future__ import annotations

import enum


class AutoShardPolicy(enum.IntEnum):
    """How a distributed dataset is split among workers (``tf.data.experimental.AutoShardPolicy``)."""

    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class ExternalStatePolicy(enum.Enum):
    """What to do with external state when a dataset is serialized."""

    WARN = 0
    IGNORE = 1
    FAIL = 2


class AutotuneAlgorithm(enum.Enum):
    """The algorithm TensorFlow's autotuner uses (accepted, without effect here)."""

    DEFAULT = 0
    HILL_CLIMB = 1
    GRADIENT_DESCENT = 2
    MAX_PARALLELISM = 3
    STAGE_BASED = 4


class _OptionsGroup:
    """A fixed set of named settings, ``None`` when unset; setting an unknown name is an error."""

    _fields: dict = {}

    def __init__(self, **kwargs):
        for name, default in self._fields.items():
            object.__setattr__(self, name, default() if callable(default) else default)
        for name, value in kwargs.items():
            setattr(self, name, value)

    def __setattr__(self, name, value):
        if name not in self._fields:
            raise AttributeError(f"Cannot set the property {name} on {type(self).__name__}.")
        object.__setattr__(self, name, value)

    def merge(self, other):
        """A copy with ``other``'s set (non-None) values applied over this one's."""
        out = type(self)()
        for name in self._fields:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, _OptionsGroup):
                object.__setattr__(out, name, mine.merge(theirs))
            else:
                object.__setattr__(out, name, theirs if theirs is not None else mine)
        return out

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and all(getattr(self, n) == getattr(other, n) for n in self._fields)

    __hash__ = None

    def __repr__(self) -> str:
        set_values = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields if getattr(self, n) is not None)
        return f"{type(self).__name__}({set_values})"


class AutotuneOptions(_OptionsGroup):
    _fields = {"enabled": None, "cpu_budget": None, "ram_budget": None, "autotune_algorithm": None,
               "initial_parallelism": None, "min_parallelism": None}


class DistributeOptions(_OptionsGroup):
    _fields = {"auto_shard_policy": None, "num_devices": None}


class OptimizationOptions(_OptionsGroup):
    _fields = {name: None for name in (
        "apply_default_optimizations", "filter_fusion", "filter_parallelization", "inject_prefetch",
        "map_and_batch_fusion", "map_and_filter_fusion", "map_fusion", "map_parallelization", "noop_elimination",
        "parallel_batch", "seq_interleave_prefetch", "shuffle_and_repeat_fusion", "warm_start")}


class ThreadingOptions(_OptionsGroup):
    _fields = {"max_intra_op_parallelism": None, "private_threadpool_size": None}


class Options(_OptionsGroup):
    """``tf.data.Options``: ``deterministic``, ``autotune``, ``experimental_distribute``,
    ``experimental_optimization``, ``threading`` and the other settings of TensorFlow 2."""

    _fields = {
        "autotune": AutotuneOptions, "dataset_name": None, "deterministic": None,
        "experimental_distribute": DistributeOptions, "experimental_external_state_policy": None,
        "experimental_optimization": OptimizationOptions, "experimental_slack": None,
        "experimental_symbolic_checkpoint": None, "experimental_warm_start": None, "framework_type": None,
        "threading": ThreadingOptions,
    }

    @property
    def experimental_deterministic(self):
        """The older name of ``deterministic``."""
        return self.deterministic

    @experimental_deterministic.setter
    def experimental_deterministic(self, value) -> None:
        self.deterministic = value

    @property
    def experimental_threading(self) -> ThreadingOptions:
        """The older name of ``threading``."""
        return self.threading

    def __setattr__(self, name, value):
        if name in ("experimental_deterministic",):
            object.__setattr__(self, "deterministic", value)
            return
        super().__setattr__(name, value)
