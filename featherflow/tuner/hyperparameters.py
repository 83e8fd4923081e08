"""Search spaces with KerasTuner's vocabulary: ``Int``, ``Float``, ``Choice``, ``Boolean``, ``Fixed``.

A ``HyperParameters`` object is both the space (``hp.space``) and one point in it (``hp.values``). A model
builder calls ``hp.Int("units", 32, 256, step=32)``: the first call registers the parameter and every call
returns the current value (the default until a tuner sets one). Parameters created with ``parent_name`` /
``parent_values`` or inside ``hp.conditional_scope(parent, values)`` are active only when the parent takes one of
those values; an inactive parameter returns ``None`` and has no entry in ``hp.values``.

Every parameter maps its values to ``[0, 1]`` (``value_to_prob`` / ``prob_to_value``), the unit cube in which the
random, Bayesian and TPE oracles work: linear sampling is uniform in the value, ``log`` uniform in ``log(value)``
and ``reverse_log`` dense near ``max_value`` (``v = max + min - exp(log min + (1 - p) (log max - log min))``).

>>> hp = HyperParameters()
>>> hp.Int("units", 32, 128, step=32)
32
>>> hp.values["units"] = 96
>>> hp.Int("units", 32, 128, step=32)
96
>>> with hp.conditional_scope("units", [128]):
...     print(hp.Float("dropout", 0.0, 0.5))
None
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

_SAMPLINGS = ("linear", "log", "reverse_log")


def clean_float(value: float) -> float:
    """``value`` rounded to 12 significant digits: the float a person would write (``0.1 * 3`` -> ``0.3``).

    >>> clean_float(0.1 * 3), clean_float(0.1 + 0.2) == 0.3
    (0.3, True)
    """
    return float(f"{float(value):.12g}")


def _check_sampling(name: str, sampling: str | None, min_value: float, max_value: float) -> str:
    sampling = "linear" if sampling is None else str(sampling).lower()
    if sampling not in _SAMPLINGS:
        raise ValueError(f"sampling must be one of {_SAMPLINGS}. Received: sampling={sampling!r} for {name!r}")
    if sampling != "linear" and min_value <= 0:
        raise ValueError(f"{sampling!r} sampling needs min_value > 0. Received: min_value={min_value} for {name!r}")
    return sampling


class HyperParameter:
    """Base class: a named dimension of the search space with a default and activation conditions."""

    def __init__(self, name: str, default: Any = None, conditions: Sequence[dict] | None = None):
        if not isinstance(name, str) or not name:
            raise ValueError(f"A hyperparameter needs a non-empty string name. Received: name={name!r}")
        self.name = name
        self._default = default
        self.conditions = [{"name": c["name"], "values": list(c["values"])} for c in (conditions or [])]

    @property
    def default(self) -> Any:
        return self._default

    def random_sample(self, rng: np.random.Generator) -> Any:
        """A value drawn with the parameter's sampling (uniform in ``[0, 1]`` mapped by ``prob_to_value``)."""
        return self.prob_to_value(float(rng.random()))

    def prob_to_value(self, prob: float) -> Any:
        raise NotImplementedError

    def value_to_prob(self, value: Any) -> float:
        raise NotImplementedError

    def grid_values(self) -> list:
        """The values GridSearch enumerates, in order."""
        raise NotImplementedError

    def cast(self, value: Any) -> Any:
        return value

    def get_config(self) -> dict:
        return {"name": self.name, "default": self._default, "conditions": copy.deepcopy(self.conditions)}

    @classmethod
    def from_config(cls, config: dict) -> HyperParameter:
        return cls(**config)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k not in ("name", "conditions") or v)
        return f"{type(self).__name__}(name={self.name!r}, {items})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = None  # type: ignore[assignment]


class _Numeric(HyperParameter):
    """Shared arithmetic of ``Int`` and ``Float``: a range, a step and a sampling scale."""

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None, conditions=None):
        super().__init__(name, default, conditions)
        if min_value > max_value:
            raise ValueError(f"min_value must be <= max_value. Received: min_value={min_value}, "
                             f"max_value={max_value} for {name!r}")
        self.min_value, self.max_value = min_value, max_value
        self.sampling = _check_sampling(name, sampling, min_value, max_value)
        if step is not None and (step <= 0 or (self.sampling != "linear" and step <= 1)):
            raise ValueError(f"step must be > 0 (and > 1, a multiplier, with {self.sampling!r} sampling). "
                             f"Received: step={step} for {name!r}")
        self.step = step
        if default is not None and not min_value <= default <= max_value:
            raise ValueError(f"default must lie in [{min_value}, {max_value}]. Received: default={default} "
                             f"for {name!r}")

    @property
    def default(self):
        return self.cast(self._default if self._default is not None else self.min_value)

    def _values_on_grid(self) -> list | None:
        if self.step is None:
            return None
        values = []
        # A tolerance keeps float steps such as 0.1 from dropping the last point to rounding.
        tolerance = 1e-9 * max(1.0, abs(self.max_value))
        for index in range(100_000):
            # Each point from the index (min + i * step), not by adding steps up, and rounded to 12 significant
            # digits: 0.1 * 3 gives 0.3, not 0.30000000000000004.
            value = (self.min_value + index * self.step if self.sampling == "linear"
                     else self.min_value * self.step ** index)
            if value > self.max_value + tolerance:
                break
            values.append(self.cast(clean_float(min(value, self.max_value))))
        return values

    def _continuous_prob_to_value(self, prob: float) -> float:
        lo, hi = float(self.min_value), float(self.max_value)
        prob = min(max(float(prob), 0.0), 1.0)
        if self.sampling == "linear":
            return lo + prob * (hi - lo)
        span = math.log(hi) - math.log(lo)
        if self.sampling == "log":
            return math.exp(math.log(lo) + prob * span)
        return hi + lo - math.exp(math.log(lo) + (1.0 - prob) * span)

    def _continuous_value_to_prob(self, value: float) -> float:
        lo, hi = float(self.min_value), float(self.max_value)
        if hi == lo:
            return 0.5
        value = min(max(float(value), lo), hi)
        if self.sampling == "linear":
            return (value - lo) / (hi - lo)
        span = math.log(hi) - math.log(lo)
        if self.sampling == "log":
            return (math.log(value) - math.log(lo)) / span
        return 1.0 - (math.log(max(hi + lo - value, lo)) - math.log(lo)) / span

    def prob_to_value(self, prob: float):
        grid = self._values_on_grid()
        if grid is not None:
            return grid[min(int(prob * len(grid)), len(grid) - 1)]
        return self.cast(self._continuous_prob_to_value(prob))

    def value_to_prob(self, value) -> float:
        grid = self._values_on_grid()
        if grid is not None:
            index = int(np.argmin([abs(float(g) - float(value)) for g in grid]))
            return (index + 0.5) / len(grid)
        return self._continuous_value_to_prob(value)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(min_value=self.min_value, max_value=self.max_value, step=self.step, sampling=self.sampling)
        return config


class Int(_Numeric):
    """An integer in ``[min_value, max_value]`` (both included).

    Args:
        step: distance between values (linear sampling) or their ratio (``log``); None allows every integer.
        sampling: ``"linear"``, ``"log"`` or ``"reverse_log"``.
        default: defaults to ``min_value``.

    >>> Int("units", 32, 128, step=32).grid_values()
    [32, 64, 96, 128]
    """

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None, conditions=None):
        for label, value in (("min_value", min_value), ("max_value", max_value), ("step", step)):
            if value is not None and (isinstance(value, bool) or int(value) != value):
                raise ValueError(f"Int {label} must be an integer. Received: {label}={value!r} for {name!r}")
        super().__init__(name, int(min_value), int(max_value), None if step is None else int(step), sampling,
                         None if default is None else int(default), conditions)

    def cast(self, value):
        return int(round(value))

    def prob_to_value(self, prob: float):
        if self.step is None:
            # Every integer equally wide in the sampling scale: map p to [min, max + 1) and floor.
            lo, hi = self.min_value, self.max_value
            if self.sampling == "linear":
                return min(hi, lo + int(math.floor(min(max(prob, 0.0), 1.0) * (hi - lo + 1))))
            return min(hi, max(lo, int(round(self._continuous_prob_to_value(prob)))))
        return super().prob_to_value(prob)

    def value_to_prob(self, value) -> float:
        if self.step is None and self.sampling == "linear":
            return (int(value) - self.min_value + 0.5) / (self.max_value - self.min_value + 1)
        return super().value_to_prob(value)

    def grid_values(self) -> list:
        grid = self._values_on_grid()
        if grid is not None:
            return grid
        if self.sampling == "linear":
            return list(range(self.min_value, self.max_value + 1))
        return sorted({self.prob_to_value(p) for p in np.linspace(0, 1, 10)})


class Float(_Numeric):
    """A float in ``[min_value, max_value]``.

    Args:
        step: distance between values (linear) or their ratio (``log``); None is continuous (GridSearch then
            takes 10 points evenly spaced in the sampling scale).

    >>> Float("lr", 1e-4, 1e-2, sampling="log").prob_to_value(0.5)
    0.001
    """

    def __init__(self, name, min_value, max_value, step=None, sampling="linear", default=None, conditions=None):
        super().__init__(name, float(min_value), float(max_value), None if step is None else float(step), sampling,
                         None if default is None else float(default), conditions)

    def cast(self, value):
        return float(value)

    def grid_values(self) -> list:
        grid = self._values_on_grid()
        if grid is not None:
            return grid
        return [float(self._continuous_prob_to_value(p)) for p in np.linspace(0, 1, 10)]


class Choice(HyperParameter):
    """One of ``values`` (all ints, all floats, all strings or all bools); default ``values[0]``.

    ``ordered`` (default True for numbers) lets model-based oracles treat neighbours as similar.

    >>> Choice("act", ["relu", "tanh"]).prob_to_value(0.9)
    'tanh'
    """

    def __init__(self, name, values, ordered=None, default=None, conditions=None):
        super().__init__(name, default, conditions)
        values = list(values)
        if not values:
            raise ValueError(f"Choice needs at least one value. Received: values={values!r} for {name!r}")
        kinds = {bool if isinstance(v, bool) else int if isinstance(v, (int, np.integer)) else
                 float if isinstance(v, (float, np.floating)) else str if isinstance(v, str) else None
                 for v in values}
        if None in kinds or (len(kinds) > 1 and kinds != {int, float}):
            raise TypeError("Choice values must all be of one type: int, float, str or bool. "
                            f"Received: values={values!r} for {name!r}")
        if kinds == {int, float}:
            values = [float(v) for v in values]
        else:
            kind = kinds.pop()
            values = [kind(v) for v in values]
        if len(set(values)) != len(values):
            raise ValueError(f"Choice values must be unique. Received: values={values!r} for {name!r}")
        self.values = values
        numeric = isinstance(values[0], (int, float)) and not isinstance(values[0], bool)
        if ordered and not numeric:
            raise ValueError(f"ordered=True needs numeric values. Received: values={values!r} for {name!r}")
        self.ordered = numeric if ordered is None else bool(ordered)
        if default is not None and default not in values:
            raise ValueError(f"default must be one of the values {values}. Received: default={default!r} "
                             f"for {name!r}")

    @property
    def default(self):
        return self.values[0] if self._default is None else self._default

    def prob_to_value(self, prob: float):
        return self.values[min(int(max(prob, 0.0) * len(self.values)), len(self.values) - 1)]

    def value_to_prob(self, value) -> float:
        return (self.values.index(value) + 0.5) / len(self.values)

    def grid_values(self) -> list:
        return list(self.values)

    def cast(self, value):
        return value

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(values=list(self.values), ordered=self.ordered)
        return config


class Boolean(Choice):
    """``True`` or ``False`` (default ``False``)."""

    def __init__(self, name, default=False, conditions=None):
        super().__init__(name, [False, True], ordered=False, default=bool(default), conditions=conditions)

    def get_config(self) -> dict:
        config = HyperParameter.get_config(self)
        return config


class Fixed(HyperParameter):
    """A value that is recorded with the trial but never tuned."""

    def __init__(self, name, value, conditions=None):
        if not isinstance(value, (int, float, str, bool, np.integer, np.floating)) and value is not None:
            raise TypeError(f"Fixed value must be an int, float, str, bool or None. Received: value={value!r}")
        if isinstance(value, np.generic):
            value = value.item()
        super().__init__(name, value, conditions)
        self.value = value

    def prob_to_value(self, prob: float):
        return self.value

    def value_to_prob(self, value) -> float:
        return 0.5

    def grid_values(self) -> list:
        return [self.value]

    def get_config(self) -> dict:
        return {"name": self.name, "value": self.value, "conditions": copy.deepcopy(self.conditions)}


_CLASSES = {cls.__name__: cls for cls in (Int, Float, Choice, Boolean, Fixed)}


def hyperparameter_from_config(config: dict) -> HyperParameter:
    """Rebuild a parameter from ``{"class_name": ..., "config": ...}``."""
    cls = _CLASSES.get(config.get("class_name"))
    if cls is None:
        raise ValueError(f"Unknown hyperparameter class. Received: class_name={config.get('class_name')!r}")
    return cls.from_config(dict(config["config"]))


class HyperParameters:
    """A search space and the current values of its parameters (see the module docstring).

    Attributes:
        space: the registered ``HyperParameter`` objects, in registration order.
        values: name -> value of each *active* parameter.
    """

    def __init__(self):
        self.space: list[HyperParameter] = []
        self.values: dict[str, Any] = {}
        self._by_name: dict[str, HyperParameter] = {}
        self._scopes: list[dict] = []
        # When set, a parameter that is new and has no value draws one from this callable (oracles use it to
        # sample parameters that a builder registers only for some values of others, e.g. per-layer units).
        self.sampler: Callable[[HyperParameter], Any] | None = None
        # When a set, the names a model builder asked for are added to it (see ``Tuner.create_trial``).
        self._read: set | None = None

    # -- registration -------------------------------------------------------------------------------------------
    def _register(self, hp: HyperParameter) -> Any:
        hp.conditions = [*(copy.deepcopy(s) for s in self._scopes), *hp.conditions]
        if self._read is not None:
            self._read.add(hp.name)
        existing = self._by_name.get(hp.name)
        if existing is None:
            self.space.append(hp)
            self._by_name[hp.name] = hp
            existing = hp
        if not self.is_active(existing):
            self.values.pop(existing.name, None)
            return None
        if existing.name not in self.values:
            sampled = self.sampler(existing) if self.sampler is not None else existing.default
            self.values[existing.name] = existing.cast(sampled) if sampled is not None else existing.default
        return self.values[existing.name]

    @staticmethod
    def _parent(parent_name, parent_values) -> list[dict]:
        if parent_name is None and parent_values is None:
            return []
        if parent_name is None or parent_values is None:
            raise ValueError("parent_name and parent_values must be given together. "
                             f"Received: parent_name={parent_name!r}, parent_values={parent_values!r}")
        values = list(parent_values) if isinstance(parent_values, (list, tuple, set)) else [parent_values]
        return [{"name": parent_name, "values": values}]

    def Int(self, name: str, min_value: int, max_value: int, step: int | None = None, sampling: str = "linear",
            default: int | None = None, parent_name: str | None = None, parent_values: Any = None) -> int | None:
        """Register (once) and return an integer parameter; None when inactive."""
        return self._register(Int(name, min_value, max_value, step, sampling, default,
                                  self._parent(parent_name, parent_values)))

    def Float(self, name: str, min_value: float, max_value: float, step: float | None = None,
              sampling: str = "linear", default: float | None = None, parent_name: str | None = None,
              parent_values: Any = None) -> float | None:
        """Register (once) and return a float parameter; None when inactive."""
        return self._register(Float(name, min_value, max_value, step, sampling, default,
                                    self._parent(parent_name, parent_values)))

    def Choice(self, name: str, values: Sequence, ordered: bool | None = None, default: Any = None,
               parent_name: str | None = None, parent_values: Any = None) -> Any:
        """Register (once) and return one of ``values``; None when inactive."""
        return self._register(Choice(name, values, ordered, default, self._parent(parent_name, parent_values)))

    def Boolean(self, name: str, default: bool = False, parent_name: str | None = None,
                parent_values: Any = None) -> bool | None:
        """Register (once) and return a boolean parameter; None when inactive."""
        return self._register(Boolean(name, default, self._parent(parent_name, parent_values)))

    def Fixed(self, name: str, value: Any, parent_name: str | None = None, parent_values: Any = None) -> Any:
        """Register (once) and return a fixed value; None when inactive."""
        return self._register(Fixed(name, value, self._parent(parent_name, parent_values)))

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Any) -> Iterator[None]:
        """Parameters created inside are active only when ``parent_name`` takes one of ``parent_values``.

        The code inside runs either way; inactive parameters return None.
        """
        if parent_name not in self._by_name:
            raise ValueError(f"conditional_scope: {parent_name!r} must be registered before its scope. "
                             f"Received: parent_name={parent_name!r}")
        self._scopes.extend(self._parent(parent_name, parent_values))
        try:
            yield
        finally:
            self._scopes.pop()

    # -- queries ------------------------------------------------------------------------------------------------
    def is_active(self, hp: HyperParameter | str) -> bool:
        """Whether every condition of ``hp`` (and of its parents) holds for the current values."""
        hp = self._by_name.get(hp, None) if isinstance(hp, str) else hp
        if hp is None:
            return False
        for condition in hp.conditions:
            parent = self._by_name.get(condition["name"])
            if parent is None or not self.is_active(parent):
                return False
            if self.values.get(parent.name, parent.default) not in condition["values"]:
                return False
        return True

    def get(self, name: str) -> Any:
        """The value of ``name`` (its default if registered but unset; None if inactive)."""
        if self._read is not None:
            self._read.add(name)
        if name in self.values:
            return self.values[name]
        if name in self._by_name:
            hp = self._by_name[name]
            return hp.default if self.is_active(hp) else None
        raise KeyError(f"{name!r} is not a registered hyperparameter. Registered: {sorted(self._by_name)}")

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self.space)

    def hyperparameter(self, name: str) -> HyperParameter:
        """The ``HyperParameter`` object registered as ``name``."""
        return self._by_name[name]

    def active_values(self) -> dict[str, Any]:
        """Values of the active parameters, defaults filled in, in registration order."""
        return {hp.name: self.values.get(hp.name, hp.default) for hp in self.space if self.is_active(hp)}

    # -- building -----------------------------------------------------------------------------------------------
    def merge(self, other: HyperParameters | Sequence[HyperParameter], overwrite: bool = False) -> None:
        """Add the parameters of ``other`` (and their values) that are not registered yet."""
        space = other.space if isinstance(other, HyperParameters) else list(other)
        for hp in space:
            if hp.name not in self._by_name:
                self.space.append(copy.deepcopy(hp))
                self._by_name[hp.name] = self.space[-1]
            elif overwrite:
                index = self.space.index(self._by_name[hp.name])
                self.space[index] = self._by_name[hp.name] = copy.deepcopy(hp)
            if isinstance(other, HyperParameters) and hp.name in other.values and (
                    overwrite or hp.name not in self.values):
                self.values[hp.name] = other.values[hp.name]

    def with_values(self, values: dict[str, Any]) -> HyperParameters:
        """A copy of this space holding ``values`` (parameters not listed keep their defaults)."""
        hp = self.copy()
        hp.values = {}
        for name, value in values.items():
            hp.values[name] = self._by_name[name].cast(value) if name in self._by_name else value
        for name in [name for name in hp.values if name in self._by_name and not hp.is_active(name)]:
            del hp.values[name]
        return hp

    def copy(self) -> HyperParameters:
        """An independent copy (space and values)."""
        return HyperParameters.from_config(self.get_config())

    def get_config(self) -> dict:
        """JSON-ready ``{"space": [{"class_name", "config"}, ...], "values": {...}}``."""
        return {"space": [{"class_name": type(hp).__name__, "config": hp.get_config()} for hp in self.space],
                "values": dict(self.values)}

    @classmethod
    def from_config(cls, config: dict) -> HyperParameters:
        """Inverse of ``get_config``."""
        hp = cls()
        for entry in config.get("space", []):
            parameter = hyperparameter_from_config(entry)
            hp.space.append(parameter)
            hp._by_name[parameter.name] = parameter
        hp.values = dict(config.get("values", {}))
        return hp

    def summary(self) -> str:
        """One line per parameter: name, kind and range or values."""
        lines = [f"Search space summary\nDefault search space size: {len(self.space)}"]
        for hp in self.space:
            config = {k: v for k, v in hp.get_config().items() if k != "name" and (k != "conditions" or v)}
            if "default" in config:
                config["default"] = hp.default  # the value used when unset, not the None of "no default given"
            lines.append(f"{hp.name} ({type(hp).__name__})\n" + ", ".join(f"{k}: {v!r}" for k, v in config.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"HyperParameters(values={self.active_values()!r})"
