"""``keras.models.experimental``: ``SharpnessAwareMinimization`` (re-export)."""

from featherflow.keras.models.sharpness_aware_minimization import SharpnessAwareMinimization

__all__ = ["SharpnessAwareMinimization"]
