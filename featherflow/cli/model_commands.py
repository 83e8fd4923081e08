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


def _input_shape(model):
    shape = getattr(model, "input_shape", None)
    return tuple(shape) if isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape) else None


def _check_batch_axis(x, model, input_path: str) -> None:
    """One sample saved without its batch axis gets a hint instead of a shape error."""
    shape = _input_shape(model)
    if shape is not None and len(shape) == x.ndim + 1 and all(
            d is None or d == n for d, n in zip(shape[1:], x.shape)):
        raise ValueError(f"{input_path} holds one sample of shape {x.shape} without the batch axis; the model "
                         f"expects a batch of shape {shape}. Save it with a batch axis: np.save(path, x[None]) "
                         f"(shape {(1, *x.shape)}).")


def _looks_like_raw_pixels(x, model) -> bool:
    """uint8 (or whole numbers up to 255) fed to a float model without a Rescaling layer."""
    import numpy as np

    if x.size == 0 or x.dtype.kind not in "uif" or any(type(layer).__name__ in ("Rescaling", "Normalization")
                                                      for layer in getattr(model, "layers", [])):
        return False
    first = getattr(model, "layers", [None])[0] if getattr(model, "layers", None) else None
    if first is not None and type(first).__name__ == "Embedding":
        return False
    if x.dtype == np.uint8:
        return bool(x.max() > 1)
    high = float(np.max(x))
    return 1 < high <= 255 and float(np.min(x)) >= 0 and bool(np.all(x == np.round(x)))


def predict(path: str, input_path: str, batch_size: int = 32, output: str | None = None) -> None:
    """Predict on the array stored in ``input_path`` (a .npy file) and print or save the result.

    The file holds a batch shaped like the model's input, scaled like its training data, e.g. for the demo's
    model ``np.save("digits.npy", x_test[:10] / 255.0)`` (``featherflow demo`` writes one: ``digits.npy``).
    """
    import sys

    import numpy as np

    model = _load(path)
    _check_file(input_path, "Input file")
    try:
        x = np.load(input_path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{input_path} is not a plain NumPy .npy array ({exc})") from None
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{input_path} must be a .npy file holding one array (use np.save), not an .npz archive")
    _check_batch_axis(x, model, input_path)
    if _looks_like_raw_pixels(x, model):
        print(f"featherflow: warning: {input_path} holds raw pixel values (dtype {x.dtype}, 0-{x.max()}); a model "
              "trained on inputs scaled to [0, 1], like the demo's, expects x / 255.0: np.save(path, x / 255.0)",
              file=sys.stderr)
    predictions = model.predict(x, batch_size=batch_size, verbose=0)
    if output:
        np.save(output, predictions)
        print(f"Saved predictions of shape {predictions.shape} to {output}")
        return
    with np.printoptions(precision=4, suppress=True, threshold=200):
        print(predictions)
    if predictions.ndim == 2 and predictions.shape[1] > 1:
        print("classes:", predictions.argmax(axis=1).tolist())
