"""``keras.backend``: session-wide state (layer name counters) and the float settings.

>>> from featherflow.keras import backend
>>> backend.clear_session(); backend.get_uid("dense"), backend.get_uid("dense")
(0, 1)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend import epsilon, floatx, set_epsilon, set_floatx  # noqa: F401

_uids: dict = {}


def get_uid(prefix: str = "") -> int:
    """A counter per name prefix: 0 the first time, then 1, 2, ... (reset by ``clear_session``)."""
    count = _uids.get(prefix, -1) + 1
    _uids[prefix] = count
    return count


def unique_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ... as Keras names layers."""
    uid = get_uid(prefix)
    return prefix if uid == 0 else f"{prefix}_{uid}"


def clear_session() -> None:
    """Reset the layer-name counters (the next ``Dense`` is named ``dense`` again)."""
    _uids.clear()


def image_data_format() -> str:
    """featherflow, like Keras on CPU, uses ``channels_last`` (NHWC)."""
    return "channels_last"


def cast_to_floatx(x):
    """``x`` as a NumPy array of the default float type."""
    return np.asarray(x, dtype=floatx())
