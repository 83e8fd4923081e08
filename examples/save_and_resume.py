"""Save, reload and resume: ``model.save``/``load_model``, ``ModelCheckpoint`` and ``BackupAndRestore``.

1. Train, save to ``model.keras``, reload it: the reloaded model predicts identically and, because
   the archive holds the optimizer's state, continues training exactly where the original left off.
2. ``ModelCheckpoint`` keeps the best model seen during training.
3. ``BackupAndRestore``: a training run is interrupted in epoch 3 (here by an exception; a SIGKILL or a
   power cut works the same); running the same code again resumes from the last finished epoch and
   ends with the very weights an uninterrupted run produces.

Files go to a temporary folder (``--output DIR`` to keep them).
Run: ``python examples/save_and_resume.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: a tiny run for tests).
"""

import os
import sys
import tempfile

import numpy as np

from featherflow import keras

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"
output = sys.argv[sys.argv.index("--output") + 1] if "--output" in sys.argv else tempfile.mkdtemp()
os.makedirs(output, exist_ok=True)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(sample=True)
x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
if FAST:
    x_train, y_train, x_test, y_test = x_train[:256], y_train[:256], x_test[:128], y_test[:128]


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# -- 1. save and reload ----------------------------------------------------------------------------
keras.utils.set_random_seed(1)
model = build_model()
model.fit(x_train, y_train, epochs=2, verbose=0)
path = os.path.join(output, "model.keras")
model.save(path)
reloaded = keras.models.load_model(path)  # safe by default: no code from the file is ever executed
np.testing.assert_array_equal(model.predict(x_test, verbose=0), reloaded.predict(x_test, verbose=0))
print(f"saved {path}; the reloaded model predicts identically")

# Training the original and the reloaded copy one more epoch gives the same weights (optimizer state kept).
keras.utils.set_random_seed(2)
model.fit(x_train, y_train, epochs=1, verbose=0)
keras.utils.set_random_seed(2)
reloaded.fit(x_train, y_train, epochs=1, verbose=0)
same = all(np.array_equal(a, b) for a, b in zip(model.get_weights(), reloaded.get_weights()))
print("one more epoch on the original and on the reloaded model gives the same weights:", same)

# -- 2. keep the best model ------------------------------------------------------------------------
best_path = os.path.join(output, "best.keras")
checkpoint = keras.callbacks.ModelCheckpoint(best_path, monitor="val_accuracy", save_best_only=True)
keras.utils.set_random_seed(3)
history = build_model().fit(x_train, y_train, epochs=3, validation_split=0.2, callbacks=[checkpoint], verbose=0)
print(f"best val_accuracy {max(history.history['val_accuracy']):.4f} saved to {best_path}")

# -- 3. resume an interrupted run ------------------------------------------------------------------
epochs = 5
backup_dir = os.path.join(output, "backup")


class Interrupt(keras.callbacks.Callback):
    """Stands in for a crash: raises during epoch 3 (index 2), after two epochs were backed up."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("simulated crash in epoch 3")


keras.utils.set_random_seed(4)
model = build_model()
try:
    model.fit(x_train, y_train, epochs=epochs, verbose=0,
              callbacks=[keras.callbacks.BackupAndRestore(backup_dir), Interrupt()])
except RuntimeError as error:
    print(f"first run stopped: {error}; backup in {backup_dir}: {sorted(os.listdir(backup_dir))}")

# "Run the script again": same code, same seed, same backup_dir -> training resumes at epoch 3.
keras.utils.set_random_seed(4)
model = build_model()
history = model.fit(x_train, y_train, epochs=epochs, verbose=2,
                    callbacks=[keras.callbacks.BackupAndRestore(backup_dir)])
print("epochs run after the restart:", len(history.history["loss"]))

keras.utils.set_random_seed(4)
uninterrupted = build_model()
uninterrupted.fit(x_train, y_train, epochs=epochs, verbose=0)
same = all(np.array_equal(a, b) for a, b in zip(model.get_weights(), uninterrupted.get_weights()))
print("resumed run == uninterrupted run, weight for weight:", same)
