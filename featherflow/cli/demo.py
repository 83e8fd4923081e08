"""``featherflow demo`` / ``make demo``: the lecture's MNIST model, end to end, offline.

Trains Flatten-Dense(128, relu)-Dropout(0.2)-Dense(10, softmax) with Adam on the bundled
5,000-digit MNIST sample (``--full``: the downloaded 60,000/10,000 set), validating on the last
10% of the training digits (``validation_split=0.1``; the test digits are kept for the final
accuracy), prints the summary, the test accuracy and digit 42 with its predicted probabilities,
and writes ``history.png``, ``predictions.png``, ``model.keras`` and ``digits.npy`` (ten test
digits scaled to [0, 1], an input for ``featherflow predict``) to the output folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

VALIDATION_SPLIT = 0.1

_SHADES = " .:-=+*#%@"


def ascii_digit(image) -> str:
    """A 28x28 grey image as text, one character per pixel (darker = denser).

    >>> import numpy as np
    >>> art = ascii_digit(np.eye(28))
    >>> art.splitlines()[0][:3]
    '@  '
    """
    import numpy as np

    image = np.asarray(image, dtype="float64")
    top = image.max() or 1.0
    levels = np.clip((image / top * (len(_SHADES) - 1)).round().astype(int), 0, len(_SHADES) - 1)
    return "\n".join("".join(_SHADES[v] for v in row) for row in levels)


def featherflow_command() -> str:
    """How to run the ``featherflow`` command from this shell: plain ``featherflow`` when the console script on
    ``PATH`` is this environment's, else its path (``.venv/bin/featherflow`` after ``make demo``), or
    ``python -m featherflow`` when it is not installed as a script.

    >>> featherflow_command().endswith("featherflow")
    True
    """
    script = shutil.which("featherflow", path=os.path.dirname(sys.executable))
    if script is None:
        return f"{sys.executable} -m featherflow"
    on_path = shutil.which("featherflow")
    if on_path is not None and os.path.realpath(on_path) == os.path.realpath(script):
        return "featherflow"
    relative = os.path.relpath(script)
    return script if relative.startswith(os.pardir) else relative


def run_demo(full: bool = False, epochs: int = 5, output: str = "demo-output", seed: int = 42) -> dict:
    """Run the demo; returns ``{"test_accuracy": ..., "files": [...]}``."""
    import numpy as np

    import featherflow as tf

    if epochs < 1:
        raise ValueError(f"--epochs must be a positive integer. Received: epochs={epochs}")
    started = time.perf_counter()
    tf.keras.utils.set_random_seed(seed)
    mnist = tf.keras.datasets.mnist
    if full:
        try:
            (x_train, y_train), (x_test, y_test) = mnist.load_data()
        except OSError as error:  # DownloadError: offline, and no cached copy
            raise OSError("--full could not download the full MNIST set. Offline, run the demo without --full "
                          "(`make demo`, not `make demo ARGS=--full`): it uses the bundled sample. Details: "
                          f"{' '.join(str(error).split())}") from None
        source = "the full MNIST set"
    else:
        (x_train, y_train), (x_test, y_test) = mnist.load_data(sample=True)
        source = "the bundled MNIST sample (run `make demo ARGS=--full` for the full 70,000 digits)"
    print(f"Data: {len(x_train):,} training and {len(x_test):,} test digits from {source}.")
    print(f"Validation: the last {VALIDATION_SPLIT:.0%} of the training digits (validation_split="
          f"{VALIDATION_SPLIT}); the test digits are kept for the final accuracy.\n")
    x_train, x_test = x_train / 255.0, x_test / 255.0

    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=False)
    model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
    print()
    # The validation curve comes from held-out training digits: the test digits stay unseen until evaluate.
    history = model.fit(x_train, y_train, epochs=epochs, validation_split=VALIDATION_SPLIT)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=2)
    print(f"\nTest accuracy: {test_accuracy:.4f} (loss {test_loss:.4f})\n")

    digit = x_test[42:43]
    probabilities = model.predict(digit, verbose=0)[0]
    print(f"Test digit 42 (label {int(y_test[42])}):")
    print(ascii_digit(digit[0]))
    print("Predicted probabilities:")
    for label, p in enumerate(probabilities):
        print(f"  {label}: {p:6.3f} {'#' * int(round(p * 40))}")
    print(f"Predicted class: {int(np.argmax(probabilities))}\n")

    os.makedirs(output, exist_ok=True)
    files = []
    try:
        history_png = os.path.join(output, "history.png")
        tf.keras.utils.plot_history(history, filename=history_png)
        predictions = model.predict(x_test[:48], verbose=0).argmax(axis=1)
        predictions_png = os.path.join(output, "predictions.png")
        tf.keras.utils.show_images(x_test[:48], y_test[:48], predictions=predictions, filename=predictions_png)
        files += [history_png, predictions_png]
    except ImportError as exc:
        print(f"Plots skipped: {exc}")
    model_path = os.path.join(output, "model.keras")
    model.save(model_path)
    digits_path = os.path.join(output, "digits.npy")
    # `featherflow predict`'s input: a batch (10, 28, 28) scaled like the training data.
    np.save(digits_path, x_test[:10].astype("float32"))
    files += [model_path, digits_path]
    print("Files written:")
    for path in files:
        print(f"  {os.path.abspath(path)}")
    command = featherflow_command()
    print(f"\nDone in {time.perf_counter() - started:.1f} s. Try:")
    print(f"  {command} summary {model_path}")
    print(f"  {command} predict {model_path} {digits_path}")
    if command != "featherflow" and not command.endswith(" -m featherflow"):
        activate = os.path.join(os.path.dirname(command), "activate")
        print(f"(`source {activate}` puts `featherflow` on your PATH)")
    return {"test_accuracy": float(test_accuracy), "files": files}
