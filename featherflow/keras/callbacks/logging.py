"""``CSVLogger``, ``TerminateOnNaN``, ``LambdaCallback``, ``BaseLogger`` and ``RemoteMonitor`` (tf.keras 2 behaviour).

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
import json
import logging
import math
import os
import urllib.error
import urllib.parse
import urllib.request

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


class BaseLogger(Callback):
    """Average each batch metric over the epoch into the epoch's ``logs`` (tf.keras 1's automatic callback).

    Batches are weighted by their ``size`` entry when the logs have one, else equally; metrics in
    ``stateful_metrics`` (already running averages, as every metric of ``fit`` is) keep their last value.
    """

    def __init__(self, stateful_metrics=None):
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or [])
        self.seen = 0
        self.totals: dict = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        self.totals = {}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size", 1)
        self.seen += size * logs.get("num_steps", 1)
        for key, value in logs.items():
            if key in self.stateful_metrics:
                self.totals[key] = value
            else:
                self.totals[key] = self.totals.get(key, 0.0) + value * size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for key in self.params.get("metrics", list(self.totals)):
            if key in self.totals:
                logs[key] = self.totals[key] if key in self.stateful_metrics else self.totals[key] / self.seen


class RemoteMonitor(Callback):
    """POST each epoch's logs (with ``"epoch"``) as JSON to ``root + path``: as the form field ``field``, or as the
    request body with ``send_as_json``. An unreachable server is logged, not raised.

    Args:
        root: the server's root URL.
        path: the path the events go to.
        field: the form field holding the JSON (when not ``send_as_json``).
        headers: extra HTTP headers.
        send_as_json: send ``application/json`` instead of a form.
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None,
                 send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except (urllib.error.URLError, OSError):
            logging.getLogger("keras").warning(f"Warning: could not reach RemoteMonitor root server at {self.root}")
