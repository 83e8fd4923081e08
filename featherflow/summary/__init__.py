"""``tf.summary``: write TensorBoard event files (re-exports only).

Writers and the per-thread state (default writer, step, ``record_if``) live in ``_writer``; the
summary functions in ``_ops``. Event files are written with TensorBoard's own protocol buffers and
event-file writer, from the optional ``tensorboard`` package (``pip install "featherflow[tensorboard]"``);
``import featherflow.summary`` itself needs only NumPy.

>>> import tempfile
>>> import featherflow as tf
>>> logdir = tempfile.mkdtemp()
>>> writer = tf.summary.create_file_writer(logdir)
>>> with writer.as_default():
...     for step in range(3):
...         _ = tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
>>> writer.close()
"""

from featherflow.summary import experimental
from featherflow.summary._ops import audio, graph, histogram, image, scalar, text, write
from featherflow.summary._writer import (
    SummaryWriter,
    create_file_writer,
    create_noop_writer,
    flush,
    record_if,
    should_record_summaries,
)

__all__ = ["SummaryWriter", "audio", "create_file_writer", "create_noop_writer", "experimental", "flush", "graph",
           "histogram", "image", "record_if", "scalar", "should_record_summaries", "text", "write"]
