"""``SidecarEvaluator``: evaluate each new checkpoint a training job writes, in a separate process or thread;
``SidecarEvaluatorModelExport``: keep the best of them as a saved model.

The training side writes checkpoints with ``tf.train.CheckpointManager`` (of
``tf.train.Checkpoint(model=model, optimizer=optimizer)``) into ``checkpoint_dir``; the evaluator waits for
each new one (``tf.train.checkpoints_iterator``), restores it into its own copy of the model and runs
``model.evaluate(data)`` with its callbacks.

>>> import os, tempfile
>>> import numpy as np
>>> import featherflow as tf
>>> from featherflow import keras
>>> def make():
...     model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
...     model.compile("sgd", "mse")
...     return model
>>> trained, directory = make(), tempfile.mkdtemp()
>>> manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=trained, optimizer=trained.optimizer),
...                                      directory, max_to_keep=2)
>>> _ = manager.save()
>>> data = tf.data.Dataset.from_tensor_slices((np.ones((4, 2)), np.ones((4, 1)))).batch(2)
>>> evaluator = SidecarEvaluator(make(), data, directory, max_evaluations=1)
>>> evaluator.start()
"""

from __future__ import annotations

import logging
import os
import re

_LOG = logging.getLogger("keras")
_CHECKPOINT_TIMEOUT_SEC = 30


class SidecarEvaluator:
    """Evaluate ``model`` on ``data`` for each new checkpoint in ``checkpoint_dir``.

    Args:
        model: a compiled model of the trained one's structure.
        data: what ``model.evaluate`` takes (arrays, a tuple ``(x, y)``, a generator, a dataset).
        checkpoint_dir: where the training job's ``CheckpointManager`` writes.
        steps: batches per evaluation (``None``: the whole data).
        max_evaluations: stop after evaluating the checkpoint numbered this (``None``: run until no new
            checkpoint appears for 30 seconds).
        callbacks: callbacks for ``evaluate`` (e.g. ``TensorBoard`` or ``SidecarEvaluatorModelExport``).
    """

    def __init__(self, model, data, checkpoint_dir, steps=None, max_evaluations=None, callbacks=None):
        self.model = model
        self.data = data
        self.checkpoint_dir = os.fspath(checkpoint_dir)
        self.steps = steps
        self.max_evaluations = max_evaluations
        self.callbacks = list(callbacks or [])

    def _timeout_fn(self) -> bool:
        _LOG.info(f"No checkpoints appear to be found after {_CHECKPOINT_TIMEOUT_SEC} seconds. Please check if you are "
                  "properly using a `tf.train.Checkpoint/CheckpointManager` to save checkpoints by the training.")
        return True

    def start(self) -> None:
        """Run the evaluation loop until ``max_evaluations`` (or a 30-second wait without a new checkpoint)."""
        from featherflow import train

        objects = {"model": self.model}
        if getattr(self.model, "optimizer", None) is not None:
            objects["optimizer"] = self.model.optimizer
        checkpoint = train.Checkpoint(**objects)
        for latest in train.checkpoints_iterator(self.checkpoint_dir, timeout=_CHECKPOINT_TIMEOUT_SEC,
                                                 timeout_fn=self._timeout_fn):
            checkpoint.restore(latest).expect_partial()
            _LOG.info(f"Evaluation starts: Model weights loaded from latest checkpoint file {latest}")
            logs = self.model.evaluate(self.data, steps=self.steps, callbacks=self.callbacks, verbose=0,
                                       return_dict=True)
            _LOG.info("End of evaluation. Metrics: " + " ".join(f"{k}={v}" for k, v in logs.items()))
            number = re.search(r"-(\d+)$", latest)
            if self.max_evaluations and number and self.max_evaluations <= int(number.group(1)):
                _LOG.info("Last checkpoint evaluated. SidecarEvaluator stops.")
                return


_EXPORT_CLASS: list = []


def export_callback_class():
    """``SidecarEvaluatorModelExport`` (made on first use: it extends ``ModelCheckpoint`` from keras.saving)."""
    if not _EXPORT_CLASS:
        _EXPORT_CLASS.append(_make_export_class())
    return _EXPORT_CLASS[0]


def _make_export_class():
    from featherflow.keras.saving.checkpoint_callbacks import ModelCheckpoint  # saving sits beside utils

    class SidecarEvaluatorModelExport(ModelCheckpoint):
        """Save the model (or its weights) evaluated by a ``SidecarEvaluator`` when ``monitor`` improves.

        Args:
            export_filepath: where to save (``{epoch}`` is the evaluated checkpoint's number).
            checkpoint_filepath: the training job's checkpoint directory (or prefix), to read that number.
            **kwargs: ``ModelCheckpoint``'s (``monitor``, ``mode``, ``save_weights_only``, ...); only the best is saved.
        """

        def __init__(self, export_filepath, checkpoint_filepath, **kwargs):
            super().__init__(filepath=export_filepath, save_best_only=True, **kwargs)
            self._checkpoint_filepath = os.fspath(checkpoint_filepath)
            self.export_index = 0

        def on_test_begin(self, logs=None):
            from featherflow import train

            directory = self._checkpoint_filepath if os.path.isdir(self._checkpoint_filepath) else \
                os.path.dirname(self._checkpoint_filepath)
            latest = train.latest_checkpoint(directory) if directory else None
            match = re.search(r"ckpt-(\d+)", latest or "")
            self.export_index = int(match.group(1)) - 1 if match else 0

        def on_test_end(self, logs=None):
            self.epochs_since_last_save += 1
            self._save_model(epoch=self.export_index, batch=None, logs=logs)

    return SidecarEvaluatorModelExport
