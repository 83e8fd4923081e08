"""``keras.wrappers``: scikit-learn estimators (``KerasClassifier``, ``KerasRegressor`` and Keras 3's names
``SKLearnClassifier``, ``SKLearnRegressor``). scikit-learn is imported on first use (extra ``sklearn``).
"""

_NAMES = ("KerasClassifier", "KerasRegressor", "SKLearnClassifier", "SKLearnRegressor", "BaseWrapper")


def __getattr__(name):
    if name in _NAMES or name == "scikit_learn":
        from featherflow.keras.wrappers import sklearn_wrapper

        return sklearn_wrapper if name == "scikit_learn" else getattr(sklearn_wrapper, name)
    raise AttributeError(f"module 'featherflow.keras.wrappers' has no attribute {name!r}")


__all__ = list(_NAMES)
