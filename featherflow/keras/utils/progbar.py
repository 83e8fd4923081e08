"""``keras.utils.Progbar``: the progress bar ``fit``/``evaluate``/``predict`` and downloads print.

On a terminal (or Jupyter) the bar is redrawn in place with ``\\r``; written to a file, a pipe or
captured output it prints plain lines only (no ``\\r``/``\\b``): the finished bar line at the end,
and in between at most one progress line every ``plain_line_interval`` seconds.

>>> bar = Progbar(4, verbose=2)
>>> for step in range(1, 5):
...     bar.update(step, values=[("loss", 1.0 / step)])  # doctest: +ELLIPSIS
4/4 - ...s - loss: 0.5208 - ...s/epoch - ...s/step
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np

from featherflow.keras.utils.io_utils import is_interactive_stream, print_msg


def _to_number(value):
    """A Python float from a number, NumPy value or featherflow Tensor; other objects unchanged."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    try:
        return float(np.mean(np.asarray(value, dtype=np.float64)))
    except (TypeError, ValueError):
        return value


def _format_value(value) -> str:
    if not isinstance(value, float):
        return f" {value}"
    # Keras prints small magnitudes in scientific notation so they do not read as 0.0000.
    return f" {value:.4f}" if abs(value) > 1e-3 else f" {value:.4e}"


def _format_time(seconds_per_unit: float, unit_name: str) -> str:
    if seconds_per_unit >= 1 or seconds_per_unit == 0:
        return f" {seconds_per_unit:.0f}s/{unit_name}"
    if seconds_per_unit >= 1e-3:
        return f" {seconds_per_unit * 1e3:.0f}ms/{unit_name}"
    return f" {seconds_per_unit * 1e6:.0f}us/{unit_name}"


def _format_eta(eta: float) -> str:
    if eta > 3600:
        return f"{int(eta // 3600)}:{int((eta % 3600) // 60):02d}:{int(eta % 60):02d}"
    if eta > 60:
        return f"{int(eta // 60)}:{int(eta % 60):02d}"
    return f"{int(eta)}s"


class Progbar:
    """Displays a progress bar (tf.keras's ``Progbar``).

    Args:
        target: total number of steps expected, ``None`` if unknown.
        width: progress bar width on screen, in characters.
        verbose: 0 silent, 1 the live bar, 2 one line when the target is reached.
        interval: minimum seconds between two redraws of the live bar.
        stateful_metrics: names of metrics shown as given (not averaged over steps).
        unit_name: what a step is called in the time per unit (``"step"``, ``"sample"``, ``"B"``).

    Values passed to ``update`` are averaged over steps weighted by the step increment
    (``avg = sum(v_i * n_i) / sum(n_i)``), except stateful metrics which show their last value.

    >>> bar = Progbar(None, verbose=0)
    >>> bar.update(3, [("acc", 0.5)]); bar.add(1, [("acc", 1.0)])
    >>> bar._values["acc"]
    [2.5, 4]
    """

    #: seconds between two intermediate lines when output is not a terminal
    plain_line_interval: float = 10.0

    def __init__(
        self,
        target: int | None,
        width: int = 30,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
    ):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self._dynamic_display = is_interactive_stream()
        self._total_width = 0
        self._seen_so_far = 0
        self._values: dict = {}
        self._values_order: list = []
        self._start = time.time()
        self._last_update = 0.0
        self._last_plain_line = self._start
        self._time_at_epoch_start = self._start
        self._time_at_epoch_end = None
        self._time_after_first_step = None

    def update(self, current: int, values: Iterable | None = None, finalize: bool | None = None) -> None:
        """Update the bar to step ``current``.

        Args:
            current: index of the current step (steps done so far).
            values: list of ``(name, value)``; non-stateful values are averaged over steps.
            finalize: whether this is the last update; default ``current >= target``.
        """
        if finalize is None:
            finalize = False if self.target is None else current >= self.target
        for name, value in values or []:
            value = _to_number(value)
            if name not in self._values_order:
                self._values_order.append(name)
            if name in self.stateful_metrics or not isinstance(value, float):
                self._values[name] = value
                continue
            # Weight by the step increment; at least 1 so a repeated `current` (epoch end
            # without a known target) still counts once.
            weight = max(current - self._seen_so_far, 1)
            if name in self._values and isinstance(self._values[name], list):
                self._values[name][0] += value * weight
                self._values[name][1] += weight
            else:
                self._values[name] = [value * weight, weight]
        self._seen_so_far = current

        now = time.time()
        if self.target is not None and current == self.target:
            self._time_at_epoch_end = now
        if self.verbose == 1:
            self._show_bar(current, now, finalize)
        elif self.verbose == 2 and finalize:
            self._show_summary_line(current, now)
        self._last_update = now

    def add(self, n: int, values: Iterable | None = None) -> None:
        """Advance by ``n`` steps (``update(seen_so_far + n, values)``)."""
        self.update(self._seen_so_far + n, values)

    # ----------------------------------------------------------------------------------------
    def _average(self, name: str):
        value = self._values[name]
        if isinstance(value, list):
            return value[0] / max(1, value[1])
        return value

    def _metrics_text(self) -> str:
        return "".join(f" - {name}:{_format_value(self._average(name))}" for name in self._values_order)

    def _bar_text(self, current: int) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = int(math.log10(self.target)) + 1 if self.target > 0 else 1
        text = f"{current:{digits}d}/{self.target} ["
        progress = float(current) / self.target if self.target > 0 else 1.0
        filled = min(int(self.width * progress), self.width)
        if filled > 0:
            text += "=" * (filled - 1) + (">" if current < self.target else "=")
        return text + "." * (self.width - filled) + "]"

    def _estimate_step_duration(self, current: int, now: float) -> float:
        # The first step includes warm-up work (building, first allocation), so once a second
        # step exists the rate is measured from the end of the first one.
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    def _show_bar(self, current: int, now: float, finalize: bool) -> None:
        if not finalize and now - self._last_update < self.interval:
            return
        per_unit = self._estimate_step_duration(current, now)
        if not self._dynamic_display and not finalize:
            if now - self._last_plain_line < self.plain_line_interval:
                return
        bar = self._bar_text(current)
        if self.target is None or finalize:
            info = f" - {now - self._start:.0f}s" + _format_time(per_unit, self.unit_name)
        else:
            info = " - ETA: " + _format_eta(per_unit * (self.target - current))
        info += self._metrics_text()
        if self._dynamic_display:
            previous_width = self._total_width
            self._total_width = len(bar) + len(info)
            # Blank out the tail of a longer previous line before returning the carriage.
            padding = " " * max(previous_width - self._total_width, 0)
            print_msg("\b" * previous_width + "\r" + bar + info + padding + ("\n" if finalize else ""),
                      line_break=False)
        else:
            self._last_plain_line = now
            print_msg(bar + info)

    def _show_summary_line(self, current: int, now: float) -> None:
        target = self.target if self.target is not None else current
        digits = int(math.log10(target)) + 1 if target > 0 else 1
        info = f"{current:{digits}d}/{target} - {now - self._start:.0f}s"
        info += self._metrics_text()
        if self._time_at_epoch_end:
            epoch_time = self._time_at_epoch_end - self._time_at_epoch_start
            info += " -" + _format_time(epoch_time, "epoch")
            info += " -" + _format_time(epoch_time / max(target, 1), self.unit_name)
            self._time_at_epoch_start = now
            self._time_at_epoch_end = None
        print_msg(info)
