"""``TensorBoard``: write ``fit``'s metrics, weight histograms and the model's structure for TensorBoard.

The files are the ones tf.keras 2 writes, under ``log_dir/train`` and ``log_dir/validation``:

* ``epoch_<metric>`` scalars at each epoch (validation metrics without their ``val_`` prefix, in
  ``validation``), ``epoch_learning_rate`` when the learning rate follows a schedule;
* ``evaluation_<metric>_vs_iterations`` in ``validation`` at each evaluation, stepped by the
  optimizer's iterations;
* with ``update_freq="batch"`` or an int ``n``: ``batch_<metric>`` every ``n`` batches, and any
  ``tf.summary`` written inside the model goes to the training writer at the batch step;
* with ``histogram_freq=n``: ``<layer>/<weight>_0/histogram`` every ``n`` epochs (and ``/image``
  with ``write_images``);
* with ``write_graph``: the functional or Sequential model's JSON config under the tag ``keras``
  (TensorBoard's Graphs dashboard draws it as the "conceptual graph").

Run ``tensorboard --logdir log_dir`` to see them. Needs the ``tensorboard`` package.

>>> import tempfile
>>> import numpy as np
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> logdir = tempfile.mkdtemp()
>>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0,
...               callbacks=[keras.callbacks.TensorBoard(logdir, histogram_freq=1)])
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

from featherflow import summary
from featherflow.keras.callbacks.base import Callback
from featherflow.summary._writer import import_tensorboard

_V1_KWARGS = {"write_grads", "embeddings_layer_names", "embeddings_data", "batch_size"}
_KERAS_MODEL_PLUGIN = "graph_keras_model"


def write_keras_model(name: str, model, step=0) -> bool:
    """Write ``model.to_json()`` as TensorBoard's ``graph_keras_model`` summary (False if it cannot serialize)."""
    from tensorboard.compat.proto import summary_pb2

    try:
        json_string = model.to_json()
    except (TypeError, ValueError, NotImplementedError) as exc:
        warnings.warn(f"Model failed to serialize as JSON. Ignoring... {exc}", stacklevel=2)
        return False
    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = _KERAS_MODEL_PLUGIN
    metadata.plugin_data.content = b"1"
    return summary.write(name, np.array(json_string, dtype=object), step=step, metadata=metadata)


def _scalar(value):
    value = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    return value if value.ndim == 0 and value.dtype.kind in "biuf" else None


class TensorBoard(Callback):
    """Write TensorBoard logs during ``fit`` (see the module docstring for what is written where).

    Args:
        log_dir: the directory TensorBoard reads (``train/`` and ``validation/`` are created in it).
        histogram_freq: epochs between weight histograms (0: none).
        write_graph: write the model's structure.
        write_images: also write each weight as an image (with ``histogram_freq``).
        write_steps_per_second: add ``epoch_steps_per_second`` (and ``batch_steps_per_second``).
        update_freq: ``"epoch"``, ``"batch"`` or a number of batches between ``batch_*`` scalars.
        profile_batch, embeddings_freq, embeddings_metadata: TensorFlow's profiler and embedding projector,
            which featherflow does not have: nonzero values are ignored with a warning.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None, **kwargs):
        super().__init__()
        import_tensorboard("keras.callbacks.TensorBoard")
        unknown = set(kwargs) - _V1_KWARGS
        if unknown:
            raise ValueError(f"Unrecognized arguments in `TensorBoard` Callback: {unknown}. Supported kwargs are: "
                             f"{_V1_KWARGS}")
        for key in sorted(set(kwargs) & _V1_KWARGS):
            if kwargs[key]:
                warnings.warn(f"`{key}` is not supported in TensorFlow 2.0 and is ignored by the `TensorBoard` "
                              "callback.", stacklevel=2)
        if update_freq != "epoch" and update_freq != "batch" and (
                isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq <= 0):
            raise ValueError(f'`update_freq` must be "epoch", "batch" or a positive integer. Received: '
                             f"update_freq={update_freq!r}")
        if profile_batch not in (0, None, "0", "0,0") or embeddings_freq:
            warnings.warn("featherflow has no TensorFlow profiler or embedding projector: `profile_batch` and "
                          "`embeddings_freq` are ignored by the TensorBoard callback.", stacklevel=2)
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers: dict = {}
        self._train_step = 0
        self._test_step = 0
        self._pushed = []
        self._epoch_start_time = 0.0
        self._batch_start_time = 0.0
        self._epoch_start_iterations = 0

    # -- writers ---------------------------------------------------------------------------------------
    def _writer(self, kind: str):
        if kind not in self._writers:
            self._writers[kind] = summary.create_file_writer(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def set_model(self, model) -> None:
        self.model = model
        self._writers = {}
        if self.write_graph and (getattr(model, "_is_graph_network", False) or type(model).__name__ == "Sequential"):
            with self._writer("train").as_default(), summary.record_if(True):
                write_keras_model("keras", model, step=0)

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _push_writer(self, kind: str, step) -> None:
        """Make ``kind``'s writer the default for summaries written inside the model (batch updates only)."""
        if self.update_freq == "epoch":
            return
        scope = self._writer(kind).as_default(step=step)
        condition = summary.record_if(lambda: step() % self.update_freq == 0)
        scope.__enter__()
        condition.__enter__()
        self._pushed.append((scope, condition))

    def _pop_writer(self) -> None:
        if self.update_freq == "epoch" or not self._pushed:
            return
        scope, condition = self._pushed.pop()
        condition.__exit__(None, None, None)
        scope.__exit__(None, None, None)

    # -- hooks -------------------------------------------------------------------------------------------
    def _implements_train_batch_hooks(self) -> bool:
        return self.update_freq != "epoch" or self.write_steps_per_second

    def _implements_test_batch_hooks(self) -> bool:
        return self.update_freq != "epoch"

    def on_train_begin(self, logs=None):
        self._train_step = 0
        self._push_writer("train", _Step(self, "_train_step"))

    def on_train_end(self, logs=None):
        self._pop_writer()
        self._close_writers()

    def on_test_begin(self, logs=None):
        self._test_step = 0
        self._push_writer("validation", _Step(self, "_test_step"))

    def on_test_batch_end(self, batch, logs=None):
        self._test_step += 1

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "iterations") and logs:
            with summary.record_if(True), self._writer("validation").as_default():
                for name, value in logs.items():
                    if _scalar(value) is not None:
                        summary.scalar(f"evaluation_{name}_vs_iterations", _scalar(value),
                                       step=int(optimizer.iterations.numpy()))
        self._pop_writer()

    def on_train_batch_begin(self, batch, logs=None):
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        self._train_step += 1
        if self.update_freq == "epoch" or self._train_step % self.update_freq:
            return
        with summary.record_if(True), self._writer("train").as_default():
            if self.write_steps_per_second:
                summary.scalar("batch_steps_per_second", 1.0 / max(time.time() - self._batch_start_time, 1e-9),
                               step=self._train_step)
            for name, value in (logs or {}).items():
                if _scalar(value) is not None:
                    summary.scalar(f"batch_{name}", _scalar(value), step=self._train_step)

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_iterations = int(self.model.optimizer.iterations.numpy())
            self._epoch_start_time = time.time()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    # -- what is written ------------------------------------------------------------------------------------
    def _learning_rate(self):
        from featherflow.keras.optimizers.schedules import LearningRateSchedule

        optimizer = getattr(self.model, "optimizer", None)
        schedule = getattr(optimizer, "_learning_rate", None)
        if isinstance(schedule, LearningRateSchedule):
            return float(np.asarray(schedule(optimizer.iterations)))
        return None

    def _log_epoch_metrics(self, epoch, logs) -> None:
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        rate = self._learning_rate()
        if rate is not None:
            train["learning_rate"] = rate
        if self.write_steps_per_second:
            iterations = int(self.model.optimizer.iterations.numpy()) - self._epoch_start_iterations
            train["steps_per_second"] = iterations / max(time.time() - self._epoch_start_time, 1e-9)
        with summary.record_if(True):
            for kind, values in (("train", train), ("validation", val)):
                if values:
                    with self._writer(kind).as_default():
                        for name, value in values.items():
                            if _scalar(value) is not None:
                                summary.scalar(f"epoch_{name}", _scalar(value), step=epoch)

    def _log_weights(self, epoch) -> None:
        with self._writer("train").as_default(), summary.record_if(True):
            for layer in self.model.layers:
                for weight in layer.weights:
                    name = weight.name.replace(":", "_")
                    name = name if name.endswith("_0") else f"{name}_0"  # tf.keras's "dense/kernel:0"
                    summary.histogram(f"{name}/histogram", weight.numpy(), step=epoch)
                    if self.write_images:
                        self._log_weight_as_image(weight.numpy(), f"{name}/image", epoch)

    @staticmethod
    def _log_weight_as_image(weight, name, epoch) -> None:
        """Kernels as greyscale images, as tf.keras draws them (a 2-D kernel wider than tall, each conv filter
        its own image); other shapes are skipped."""
        from featherflow.keras import backend

        image = np.squeeze(weight)
        if image.ndim == 1:
            image = image.reshape(1, image.shape[0], 1, 1)
        elif image.ndim == 2:
            if image.shape[0] > image.shape[1]:
                image = image.T
            image = image.reshape(1, image.shape[0], image.shape[1], 1)
        elif image.ndim == 3:
            if backend.image_data_format() == "channels_last":
                image = image.transpose(2, 0, 1)
            image = image.reshape(image.shape + (1,))
        if image.ndim == 4 and image.shape[-1] in (1, 3, 4):
            summary.image(name, image, step=epoch)


class _Step:
    """A batch counter of a ``TensorBoard`` callback (``_train_step`` or ``_test_step``), read at each write."""

    def __init__(self, callback: TensorBoard, attribute: str):
        self._callback = callback
        self._attribute = attribute

    def __index__(self) -> int:
        return getattr(self._callback, self._attribute)

    __call__ = __index__
