"""plot_history and show_images render real PNG files of the expected pixel size (Agg backend)."""

import struct

import numpy as np
import pytest

from featherflow.keras import utils

matplotlib = pytest.importorskip("matplotlib", reason="the plot helpers need the `plot` extra (matplotlib)")
matplotlib.use("Agg")  # headless rendering, whatever display the machine has


def png_size(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class FakeHistory:
    """What model.fit returns: `.history` dict and `.epoch` list (the real History is another issue's)."""

    def __init__(self, history):
        self.history = history
        self.epoch = list(range(len(next(iter(history.values())))))


HISTORY = {"loss": [1.0, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.8], "val_loss": [1.1, 0.7, 0.6], "val_accuracy": [0.4, 0.6, 0.7]}


def test_plot_history_png(tmp_path):
    path = tmp_path / "history.png"
    figure = utils.plot_history(FakeHistory(HISTORY), filename=path, figsize=(8, 3), dpi=50)
    assert png_size(path) == (400, 150)
    axes = figure.axes
    assert [axis.get_title() for axis in axes] == ["loss", "accuracy"]
    train_line, val_line = axes[0].get_lines()
    assert train_line.get_xdata().tolist() == [1, 2, 3]
    assert train_line.get_ydata().tolist() == HISTORY["loss"]
    assert val_line.get_ydata().tolist() == HISTORY["val_loss"]
    assert [t.get_text() for t in axes[1].get_legend().get_texts()] == ["training accuracy", "validation accuracy"]
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_plot_history_accepts_dict_and_metric_subset(tmp_path):
    figure = utils.plot_history({"loss": [3.0, 2.0]}, metrics="loss")
    assert len(figure.axes) == 1 and len(figure.axes[0].get_lines()) == 1
    with pytest.raises(ValueError, match="Nothing to plot"):
        utils.plot_history({"loss": [1.0]}, metrics=["accuracy"])
    with pytest.raises(TypeError, match="History object"):
        utils.plot_history([1, 2])
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("epochs", [2, 3, 5, 40])
def test_plot_history_ticks_whole_epochs(epochs):
    history = {"loss": list(np.linspace(1.0, 0.1, epochs)), "val_loss": list(np.linspace(1.1, 0.2, epochs))}
    figure = utils.plot_history(history)
    figure.canvas.draw()
    axis = figure.axes[0]
    low, high = axis.get_xlim()
    ticks = [t for t in axis.get_xticks() if low <= t <= high]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks  # no 1.5 or 2.25 epoch
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_show_images_png_and_mistakes(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = np.arange(12) % 10
    predictions = labels.copy()
    predictions[[1, 5]] = 9
    path = tmp_path / "digits.png"
    figure = utils.show_images(images, labels, predictions, ncols=6, filename=path, figsize=(6, 2), dpi=50)
    assert png_size(path) == (300, 100)
    axes = figure.axes
    assert len(axes) == 12
    titles = [axis.get_title() for axis in axes]
    assert titles[0] == "0" and titles[1] == "1 (pred 9)" and titles[5] == "5 (pred 9)"
    red = [axis.title.get_color() == "red" for axis in axes]
    assert [i for i, flag in enumerate(red) if flag] == [1, 5]
    np.testing.assert_array_equal(axes[3].get_images()[0].get_array(), images[3])
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_show_images_shapes_and_probabilities():
    probabilities = np.eye(3)[[0, 2, 1]]
    flat = np.zeros((3, 16), dtype=np.float32)
    figure = utils.show_images(flat, labels=[0, 1, 1], predictions=probabilities, class_names=["a", "b", "c"])
    assert [axis.get_title() for axis in figure.axes] == ["a", "b (pred c)", "b"]
    colour = utils.show_images(np.zeros((2, 8, 8, 3)), labels=None, predictions=[4, 2])
    assert [axis.get_title() for axis in colour.axes] == ["pred 4", "pred 2"]
    with pytest.raises(ValueError, match="images"):
        utils.show_images(np.zeros((2, 5)))
    import matplotlib.pyplot as plt

    plt.close("all")
