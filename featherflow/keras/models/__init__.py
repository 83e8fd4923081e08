"""``keras.models``: ``Model``, ``Sequential`` and model-level helpers (re-exports only).

``load_model``, ``save_model`` and ``model_from_json`` come from ``keras.saving`` and are loaded on first use.
"""

from featherflow.keras.models import experimental
from featherflow.keras.models.functional import Functional
from featherflow.keras.models.model import Model
from featherflow.keras.models.sequential import Sequential

_FROM_SAVING = ("load_model", "save_model", "model_from_json", "model_from_config", "clone_model")


def __getattr__(name):
    if name == "model_from_yaml":
        from featherflow.keras.saving.saving_api import model_from_yaml

        return model_from_yaml
    if name in _FROM_SAVING:
        from featherflow.keras import saving

        if hasattr(saving, name):
            return getattr(saving, name)
    raise AttributeError(f"module 'featherflow.keras.models' has no attribute {name!r}")


__all__ = ["Functional", "Model", "Sequential", "experimental", "model_from_yaml", *_FROM_SAVING]
