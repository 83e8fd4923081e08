"""``featherflow summary MODEL`` and ``featherflow predict MODEL INPUT.npy``."""

from __future__ import annotations

import os


def _check_file(path: str, what: str) -> None:
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} not found: {path}")
    if not os.path.isfile(path):
        raise ValueError(f"{what} is not a file: {path}")


def _load(path: str):
    from featherflow.keras.models import load_model

    _check_file(path, "Model file")
    return load_model(path, compile=False)


def summary(path: str) -> None:
    """Print the summary of the model saved at ``path`` (loaded in safe mode)."""
    _load(path).summary()


def predict(path: str, input_path: str, batch_size: int = 32, output: str | None = None) -> None:
    """Predict on the array stored in ``input_path`` (a .npy file) and print or save the result."""
    import numpy as np

    model = _load(path)
    _check_file(input_path, "Input file")
    try:
        x = np.load(input_path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{input_path} is not a plain NumPy .npy array ({exc})") from None
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{input_path} must be a .npy file holding one array (use np.save), not an .npz archive")
    predictions = model.predict(x, batch_size=batch_size, verbose=0)
    if output:
        np.save(output, predictions)
        print(f"Saved predictions of shape {predictions.shape} to {output}")
        return
    with np.printoptions(precision=4, suppress=True, threshold=200):
        print(predictions)
    if predictions.ndim == 2 and predictions.shape[1] > 1:
        print("classes:", predictions.argmax(axis=1).tolist())
