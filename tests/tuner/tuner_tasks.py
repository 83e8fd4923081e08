"""Functions tuned in the tests (module level so worker processes can import them)."""

import math
import os
import time


def branin(values):
    x1, x2 = values["x1"], values["x2"]
    b, c, r, s, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def quadratic(values, seed=None):
    return (values["x"] - 0.3) ** 2 + (0.0 if values.get("flag", True) else 0.5)


def fails_for_large_x(values):
    if values["x"] > 0.5:
        raise ValueError(f"x too large: {values['x']}")
    return values["x"]


def always_fails(values):
    raise RuntimeError("broken objective")


def flaky(values):
    """Fails on the first attempt of each configuration (marker files), succeeds on the retry."""
    marker = os.path.join(values["folder"], f"{values['x']:.6f}")
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise OSError("transient")
    return values["x"]


def slow_quadratic(values):
    time.sleep(float(os.environ.get("FEATHERFLOW_TEST_SLEEP", "0.3")))
    return (values["x"] - 0.3) ** 2
