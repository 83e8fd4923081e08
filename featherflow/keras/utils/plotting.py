"""Plot helpers (extra ``plot``): training curves and a grid of digits.

matplotlib is imported inside each function; with no display (no ``$DISPLAY`` on Linux, or a
non-interactive session) the Agg backend is selected first, so both work headless.
``keras.utils.plot_model`` (a graphviz drawing of the model) is in ``model_visualization``.
"""

from __future__ import annotations

import os
import sys

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError(
            'Plotting requires matplotlib. Install it with `pip install "featherflow[plot]"`.'
        ) from e
    headless = sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get(
        "WAYLAND_DISPLAY"
    )
    if headless and "matplotlib.pyplot" not in sys.modules and "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _history_dict(history) -> dict:
    if isinstance(history, dict):
        return history
    inner = getattr(history, "history", None)
    if isinstance(inner, dict):
        return inner
    raise TypeError(
        "`plot_history` expects a History object (the return value of `model.fit`) or its `history` dict. "
        f"Received: history={history!r} of type {type(history)}"
    )


def _integer_locator():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def plot_history(history, metrics=None, filename: str | os.PathLike | None = None, figsize=None, dpi: int = 100):
    """Plots loss and metrics per epoch, training and validation, one panel per quantity.

    Args:
        history: a ``History`` (``model.fit``'s return value) or its ``history`` dict
            (``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}``).
        metrics: names to plot (without ``val_``); default every training key, loss first.
        filename: if given, the figure is saved there (format from the extension).
        figsize: figure size in inches; default ``(5 * panels, 4)``.
        dpi: resolution of the saved image (``figsize * dpi`` pixels).

    Returns:
        The matplotlib ``Figure``.
    """
    values = _history_dict(history)
    if metrics is None:
        metrics = [key for key in values if not key.startswith("val_")]
        metrics.sort(key=lambda key: key != "loss")  # loss first, then the metrics in fit's order
    elif isinstance(metrics, str):
        metrics = [metrics]
    missing = [name for name in metrics if name not in values]
    if not metrics or missing:
        raise ValueError(f"Nothing to plot for {missing or metrics}: the history has keys {sorted(values)}.")
    epochs = getattr(history, "epoch", None)
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(metrics), figsize=figsize or (5 * len(metrics), 4), dpi=dpi, squeeze=False)
    for axis, name in zip(axes[0], metrics):
        train = np.asarray(values[name], dtype=float)
        x = np.asarray(epochs, dtype=float) + 1 if epochs is not None and len(epochs) == len(train) else (
            np.arange(1, len(train) + 1)
        )
        axis.plot(x, train, marker="o", label=f"training {name}")
        if f"val_{name}" in values:
            axis.plot(x[: len(values[f"val_{name}"])], np.asarray(values[f"val_{name}"], dtype=float), marker="o",
                      label=f"validation {name}")
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(_integer_locator())  # epochs are whole numbers: no 2.5 tick
        axis.set_ylabel(name)
        axis.set_title(name)
        axis.grid(True, alpha=0.3)
        axis.legend()
    figure.tight_layout()
    if filename is not None:
        figure.savefig(os.fspath(filename), dpi=dpi)
    return figure


def show_images(
    images,
    labels=None,
    predictions=None,
    class_names=None,
    ncols: int | None = None,
    max_images: int = 100,
    filename: str | os.PathLike | None = None,
    figsize=None,
    dpi: int = 100,
    cmap: str = "gray_r",
):
    """A grid of images (digits) with their labels; wrong predictions are marked in red.

    Args:
        images: ``(n, h, w)`` grayscale, ``(n, h, w, 1)`` or ``(n, h, w, 3)`` colour, any numeric
            range (each image is shown with its own min-max scaling unless uint8/0-1 floats), or
            ``(n, h*w)`` square flat images.
        labels: ``(n,)`` true classes (or one-hot rows), or None.
        predictions: ``(n,)`` predicted classes, or ``(n, classes)`` scores/probabilities (argmax
            is taken), or None. A title reads ``"7"`` when right and ``"7 (pred 1)"`` in red with
            a red frame when wrong.
        class_names: optional names for the class indices.
        ncols: images per row; default ``min(10, n)``.
        max_images: at most this many images are drawn.
        filename: if given, the figure is saved there.
        figsize: figure size in inches; default 1.2 inch per image.
        dpi: resolution of the saved image.
        cmap: colour map for grayscale images.

    Returns:
        The matplotlib ``Figure``.
    """
    images = np.asarray(images.numpy() if hasattr(images, "numpy") else images)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"Flat images must be square (h*w); received images of shape {images.shape}.")
        images = images.reshape(-1, side, side)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (3, 4)):
        raise ValueError(
            "`images` must have shape (n, h, w), (n, h, w, 1), (n, h, w, 3) or (n, h*w). "
            f"Received: images.shape={images.shape}"
        )

    def classes(values):
        if values is None:
            return None
        values = np.asarray(values.numpy() if hasattr(values, "numpy") else values)
        if values.ndim == 2 and values.shape[1] > 1:
            values = values.argmax(axis=1)
        return values.reshape(-1)

    labels, predictions = classes(labels), classes(predictions)
    count = min(len(images), max_images)
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) < count:
            raise ValueError(f"`{name}` has {len(values)} entries for {count} images.")
    ncols = ncols or min(10, max(count, 1))
    nrows = max(1, -(-count // ncols))
    plt = _pyplot()
    figure, axes = plt.subplots(nrows, ncols, figsize=figsize or (1.2 * ncols, 1.4 * nrows), dpi=dpi, squeeze=False)

    def name_of(value):
        value = int(value)
        return str(class_names[value]) if class_names is not None else str(value)

    for position, axis in enumerate(axes.flat):
        axis.set_xticks([])
        axis.set_yticks([])
        if position >= count:
            axis.axis("off")
            continue
        image = images[position]
        if image.dtype.kind == "f" and (image.min() < 0 or image.max() > 1):
            span = image.max() - image.min()
            image = (image - image.min()) / (span if span else 1)
        axis.imshow(image, cmap=cmap if image.ndim == 2 else None)
        title = name_of(labels[position]) if labels is not None else ""
        wrong = predictions is not None and labels is not None and int(predictions[position]) != int(labels[position])
        if predictions is not None and labels is None:
            title = f"pred {name_of(predictions[position])}"
        elif wrong:
            title = f"{title} (pred {name_of(predictions[position])})"
        axis.set_title(title, fontsize=8, color="red" if wrong else "black")
        if wrong:
            for spine in axis.spines.values():
                spine.set_edgecolor("red")
                spine.set_linewidth(2)
    figure.tight_layout()
    if filename is not None:
        figure.savefig(os.fspath(filename), dpi=dpi)
    return figure
