"""``keras.callbacks``: hooks into ``fit``/``evaluate``/``predict`` (re-exports only).

``ModelCheckpoint`` and ``BackupAndRestore`` live with the saving code and are loaded on first use.
"""

from featherflow.keras.callbacks import experimental
from featherflow.keras.callbacks.base import Callback, CallbackList, History, ProgbarLogger
from featherflow.keras.callbacks.early_stopping import EarlyStopping
from featherflow.keras.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from featherflow.keras.callbacks.logging import BaseLogger, CSVLogger, LambdaCallback, RemoteMonitor, TerminateOnNaN
from featherflow.keras.callbacks.tensorboard import TensorBoard

_SAVING_CALLBACKS = ("ModelCheckpoint", "BackupAndRestore")


def __getattr__(name):
    # Imported lazily: the saving callbacks import this package for `Callback`.
    if name in _SAVING_CALLBACKS:
        from featherflow.keras.saving import checkpoint_callbacks

        return getattr(checkpoint_callbacks, name)
    if name == "SidecarEvaluatorModelExport":
        from featherflow.keras.utils.sidecar_evaluator import export_callback_class

        return export_callback_class()
    raise AttributeError(f"module 'featherflow.keras.callbacks' has no attribute {name!r}")


__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "LearningRateScheduler",
           "ReduceLROnPlateau", "CSVLogger", "LambdaCallback", "TerminateOnNaN", "TensorBoard", "BaseLogger",
           "RemoteMonitor", "SidecarEvaluatorModelExport", "experimental", *_SAVING_CALLBACKS]
