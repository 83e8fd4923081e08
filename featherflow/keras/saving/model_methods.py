"""``Model.save`` / ``save_weights`` / ``load_weights`` / ``to_json``: thin methods delegating to this package.

``keras.Model`` inherits ``SavingMixin``; all logic lives in ``saving_lib`` and ``saving_api``.

>>> from featherflow.keras.saving.model_methods import SavingMixin
>>> sorted(name for name in vars(SavingMixin) if not name.startswith("_"))
['load_weights', 'save', 'save_weights', 'to_json', 'to_yaml']
"""

from __future__ import annotations


class SavingMixin:
    """Saving methods of ``keras.Model`` (see ``featherflow.keras.saving``)."""

    def save(self, filepath, overwrite: bool = True, save_format: str | None = None, **kwargs) -> None:
        """Save the model (config, weights, compile config and optimizer state) to ``filepath``.

        ``"m.keras"`` writes the zip archive, ``"m.h5"`` the legacy HDF5 file, a path without an
        extension a directory with the archive's members. Atomic: a crash keeps the previous file.
        """
        from featherflow.keras.saving import saving_lib

        saving_lib.save_model(self, filepath, overwrite=overwrite, save_format=save_format, **kwargs)

    def save_weights(self, filepath, overwrite: bool = True, save_format: str | None = None, options=None) -> None:
        """Save all variables (and the optimizer's state) to ``.weights.h5`` / ``.h5`` or ``.npz``."""
        from featherflow.keras.saving import saving_api

        saving_api.save_weights(self, filepath, overwrite=overwrite, save_format=save_format, options=options)

    def load_weights(self, filepath, skip_mismatch: bool = False, by_name: bool = False, options=None):
        """Load weights saved by ``save_weights`` / ``save`` (format detected from the file); into a model not
        built yet, restored on its first call (non-HDF5 files). Returns a status for non-HDF5 files."""
        from featherflow.keras.saving import saving_api

        return saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name, options=options)

    def to_json(self, **kwargs) -> str:
        """The architecture as JSON; rebuild it with ``keras.models.model_from_json``."""
        from featherflow.keras.saving import saving_api

        return saving_api.to_json(self, **kwargs)

    def to_yaml(self, **kwargs):
        """Removed in tf.keras 2.6+ (YAML loading could run code); use ``to_json``."""
        raise RuntimeError("Method `model.to_yaml()` has been removed due to security risk of arbitrary code "
                           "execution. Please use `model.to_json()` instead.")
