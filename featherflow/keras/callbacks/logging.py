"""``CSVLogger``, ``TerminateOnNaN`` and ``LambdaCallback`` (tf.keras 2.12 behaviour).

>>> import os, tempfile
>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
>>> _ = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=2, callbacks=[keras.callbacks.CSVLogger(path)], verbose=0)
>>> open(path).read().splitlines()[0]
'epoch,loss,val_loss'
"""

from __future__ import annotations

import collections
import csv
import math
import os

import numpy as np

from featherflow.keras.callbacks.base import Callback


class CSVLogger(Callback):
    """Stream each epoch's logs to a CSV file (one row per epoch, columns sorted by name).

    Args:
        filename: the CSV file.
        separator: the column separator.
        append: append to an existing file (no second header) instead of overwriting it.

    Without validation data the ``val_`` columns are still written (``NA``), so a later epoch with
    ``validation_freq > 1`` fits the header, as tf.keras does.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, encoding="utf-8") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")  # noqa: SIM115 - closed in on_train_end

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}

        def handle_value(value):
            if hasattr(value, "numpy"):
                value = value.numpy()
            is_zero_dim = isinstance(value, np.ndarray) and value.ndim == 0
            if isinstance(value, str):
                return value
            if isinstance(value, collections.abc.Iterable) and not is_zero_dim:
                return f"\"[{', '.join(map(str, value))}]\""
            return value

        if self.keys is None:
            self.keys = sorted(logs.keys())
            if not any(k.startswith("val_") for k in self.keys):
                self.keys.extend(["val_" + k for k in self.keys])
        if self.model is not None and self.model.stop_training:
            logs = {k: (logs[k] if k in logs else "NA") for k in self.keys}
        if self.writer is None:
            class CustomDialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=CustomDialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None:
            if hasattr(loss, "numpy"):
                loss = loss.numpy()
            loss = float(loss)
            if math.isnan(loss) or math.isinf(loss):
                from featherflow.keras.utils.io_utils import print_msg

                print_msg(f"Batch {batch}: Invalid loss, terminating training")
                self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions.

    Args:
        on_epoch_begin / on_epoch_end: ``fn(epoch, logs)``.
        on_batch_begin / on_batch_end: ``fn(batch, logs)``.
        on_train_begin / on_train_end: ``fn(logs)``.
        **kwargs: any other hook, e.g. ``on_train_batch_end=fn(batch, logs)`` or ``on_test_end=fn(logs)``.

    >>> seen = []
    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> cb.on_epoch_end(0, {}); seen
    [0]
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        for name in kwargs:
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise TypeError(f"LambdaCallback got an unknown hook {name!r}. Hooks are the Callback methods "
                                "(on_epoch_end, on_train_batch_end, on_test_begin, ...).")
        self.__dict__.update(kwargs)
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_batch_begin", on_batch_begin), ("on_batch_end", on_batch_end),
                         ("on_train_begin", on_train_begin), ("on_train_end", on_train_end)):
            if fn is not None:
                setattr(self, name, fn)
