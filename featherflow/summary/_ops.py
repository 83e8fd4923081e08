"""The summary functions: ``scalar``, ``histogram``, ``image``, ``text``, ``audio``, ``write``, ``graph``.

Each builds TensorBoard's ``Summary`` protocol buffer as TensorFlow 2 does (a tensor plus the
plugin's ``SummaryMetadata``, from TensorBoard's own ``tensorboard.plugins`` modules) and appends it,
at ``step``, to the default writer. Each returns ``True`` when written and ``False`` when there is no
default writer or ``record_if`` says no, as in TensorFlow.

Encodings follow TensorFlow's: images are PNG (floats in ``[0, 1]`` become ``uint8`` as
``convert_image_dtype`` does, ``trunc(clip(x * 255.5, 0, 255))``), audio is 16-bit PCM WAV
(``round(clip(x, -1, 1) * 32768)``), histograms are ``buckets`` equal-width bins over ``[min, max]``
stored as ``(left, right, count)`` rows.

>>> import tempfile
>>> import featherflow as tf
>>> with tf.summary.create_file_writer(tempfile.mkdtemp()).as_default(step=0):
...     tf.summary.histogram("weights", [0.0, 1.0, 1.0, 2.0], buckets=2)
True
"""

from __future__ import annotations

import functools
import io
import struct
import time
import wave
import zlib

import numpy as np

from featherflow import compiler
from featherflow.core import Tensor
from featherflow.summary import _writer
from featherflow.summary._writer import full_tag, import_tensorboard, resolve_step, should_record_summaries

DEFAULT_BUCKET_COUNT = 30


def _at_run_time(op):
    """Inside a ``tf.function`` trace, ``op`` becomes a host call: the summary is written at every call of the
    compiled function (as TensorFlow's summary ops run in its graph), with the writer, ``record_if`` condition
    and step of that moment, not once at trace time. Outside a trace ``op`` runs as it is."""
    @functools.wraps(op)
    def run(*args, **kwargs):
        if compiler.current() is None:
            return op(*args, **kwargs)
        args = [a.value if isinstance(a, Tensor) else a for a in args]  # a traced tensor's value is read at replay
        kwargs = {k: v.value if isinstance(v, Tensor) else v for k, v in kwargs.items()}
        return Tensor(compiler.host_call(lambda *a, **k: np.asarray(op(*a, **k)), *args, **kwargs))

    return run


def _array(data) -> np.ndarray:
    return np.asarray(data.numpy() if isinstance(data, Tensor) else data)


def _write_summary(summary, step) -> bool:
    event_pb2, _, _, _ = import_tensorboard("tf.summary")
    _writer.get_default_writer().write_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
    return True


def _write_value(tag, tensor_proto, metadata, step) -> bool:
    _, summary_pb2, _, _ = import_tensorboard("tf.summary")
    summary = summary_pb2.Summary()
    summary.value.add(tag=tag, metadata=metadata, tensor=tensor_proto)
    return _write_summary(summary, step)


@_at_run_time
def scalar(name, data, step=None, description=None) -> bool:
    """Write a scalar (shown in TensorBoard's Scalars dashboard), stored as float32."""
    if not should_record_summaries():
        return False
    arr = _array(data)
    if arr.shape != ():
        raise ValueError(f"`tf.summary.scalar` expects a scalar. Received: data with shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"`tf.summary.scalar` expects a number. Received: data of dtype {arr.dtype}")
    step = resolve_step(step)
    _, _, _, tensor_util = import_tensorboard("tf.summary.scalar")
    from tensorboard.plugins.scalar import metadata

    return _write_value(full_tag(name), tensor_util.make_tensor_proto(arr.astype(np.float32)),
                        metadata.create_summary_metadata(display_name=None, description=description), step)


def histogram_buckets(data, buckets: int = DEFAULT_BUCKET_COUNT) -> np.ndarray:
    """``(buckets, 3)`` rows ``(left edge, right edge, count)``: equal-width bins over ``[min, max]`` (the last
    bin closed); all counts in the last bin when every value is equal; zeros for no data.

    >>> histogram_buckets([0.0, 1.0, 1.0, 2.0], 2).tolist()
    [[0.0, 1.0, 1.0], [1.0, 2.0, 3.0]]
    """
    values = np.asarray(data, dtype=np.float64).ravel()
    if buckets == 0 or values.size == 0:
        return np.zeros((buckets, 3))
    low, high = values.min(), values.max()
    if high == low:
        counts = np.zeros(buckets)
        counts[-1] = values.size
        return np.stack([np.full(buckets, low), np.full(buckets, low), counts], axis=1)
    width = (high - low) / buckets
    index = np.minimum(np.floor((values - low) / width).astype(np.int64), buckets - 1)
    counts = np.bincount(index, minlength=buckets).astype(np.float64)
    edges = np.linspace(low, high, buckets + 1)
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


@_at_run_time
def histogram(name, data, step=None, buckets=None, description=None) -> bool:
    """Write the distribution of ``data``'s values (Histograms and Distributions dashboards)."""
    if not should_record_summaries():
        return False
    bucket_count = DEFAULT_BUCKET_COUNT if buckets is None else int(buckets)
    if bucket_count < 0:
        raise ValueError(f"`buckets` must be a non-negative integer. Received: buckets={buckets}")
    step = resolve_step(step)
    _, _, _, tensor_util = import_tensorboard("tf.summary.histogram")
    from tensorboard.plugins.histogram import metadata

    tensor = tensor_util.make_tensor_proto(histogram_buckets(_array(data), bucket_count), dtype=np.float64)
    return _write_value(full_tag(name), tensor, metadata.create_summary_metadata(None, description), step)


def encode_png(image: np.ndarray) -> bytes:
    """A PNG file of a ``(height, width, channels)`` uint8 image with 1 (grey), 2 (grey + alpha), 3 (RGB) or
    4 (RGBA) channels (no filtering, zlib-compressed), as ``tf.image.encode_png`` would write it."""
    height, width, channels = image.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _to_uint8(images: np.ndarray) -> np.ndarray:
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind == "f":
        return np.clip(images.astype(np.float64) * 255.5, 0, 255).astype(np.uint8)
    return np.clip(images, 0, 255).astype(np.uint8)


@_at_run_time
def image(name, data, step=None, max_outputs=3, description=None) -> bool:
    """Write up to ``max_outputs`` images of ``data`` ``(k, height, width, channels)`` (channels 1, 2, 3 or 4;
    floats in ``[0, 1]`` or uint8)."""
    if not should_record_summaries():
        return False
    images = _array(data)
    if images.ndim != 4 or images.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"`tf.summary.image` expects data of shape (k, height, width, channels) with 1, 2, 3 or "
                         f"4 channels. Received: data.shape={images.shape}")
    step = resolve_step(step)
    _, _, _, tensor_util = import_tensorboard("tf.summary.image")
    from tensorboard.plugins.image import metadata

    pixels = _to_uint8(images[:max(int(max_outputs), 0)])
    encoded = [str(images.shape[2]).encode(), str(images.shape[1]).encode()] + [encode_png(p) for p in pixels]
    tensor = tensor_util.make_tensor_proto(np.array(encoded, dtype=object), dtype=np.object_)
    return _write_value(full_tag(name), tensor, metadata.create_summary_metadata(None, description), step)


@_at_run_time
def text(name, data, step=None, description=None) -> bool:
    """Write a string or an array of strings (the Text dashboard renders Markdown)."""
    if not should_record_summaries():
        return False
    values = _array(data)
    if values.dtype.kind not in "USO":
        raise ValueError(f"`tf.summary.text` expects strings. Received: data of dtype {values.dtype}")
    step = resolve_step(step)
    _, _, _, tensor_util = import_tensorboard("tf.summary.text")
    from tensorboard.plugins.text import metadata

    encoded = np.vectorize(lambda s: s if isinstance(s, bytes) else str(s).encode("utf-8"), otypes=[object])(values)
    tensor = tensor_util.make_tensor_proto(encoded, dtype=np.object_)
    return _write_value(full_tag(name), tensor, metadata.create_summary_metadata(None, description), step)


def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """A 16-bit PCM WAV file of ``(frames, channels)`` float samples in ``[-1, 1]``."""
    pcm = np.clip(np.round(np.clip(samples, -1.0, 1.0) * 32768.0), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(pcm.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(int(sample_rate))
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


@_at_run_time
def audio(name, data, sample_rate, step=None, max_outputs=3, encoding=None, description=None) -> bool:
    """Write up to ``max_outputs`` clips of ``data`` ``(k, frames, channels)`` (floats in ``[-1, 1]``) as WAV."""
    if not should_record_summaries():
        return False
    if encoding not in (None, "wav"):
        raise ValueError(f"Unknown encoding: {encoding!r}. Only 'wav' is supported.")
    clips = _array(data)
    if clips.ndim != 3:
        raise ValueError(f"`tf.summary.audio` expects data of shape (k, frames, channels). Received: "
                         f"data.shape={clips.shape}")
    step = resolve_step(step)
    _, _, _, tensor_util = import_tensorboard("tf.summary.audio")
    from tensorboard.plugins.audio import metadata

    rows = [[encode_wav(clip.astype(np.float64), sample_rate), b""] for clip in clips[:max(int(max_outputs), 0)]]
    tensor = tensor_util.make_tensor_proto(np.array(rows, dtype=object).reshape(len(rows), 2), dtype=np.object_)
    meta = metadata.create_summary_metadata(None, description, metadata.Encoding.Value("WAV"))
    return _write_value(full_tag(name), tensor, meta, step)


@_at_run_time
def write(tag, tensor, step=None, metadata=None, name=None) -> bool:
    """Write ``tensor`` under ``tag`` with optional ``SummaryMetadata`` (a protocol buffer or its bytes)."""
    if not should_record_summaries():
        return False
    step = resolve_step(step)
    _, summary_pb2, _, tensor_util = import_tensorboard("tf.summary.write")
    if metadata is None:
        metadata = summary_pb2.SummaryMetadata()
    elif isinstance(metadata, bytes):
        metadata = summary_pb2.SummaryMetadata.FromString(metadata)
    values = _array(tensor)
    if values.dtype.kind in "US":
        values = values.astype(object)
    return _write_value(tag, tensor_util.make_tensor_proto(values), metadata, step)


@_at_run_time
def write_raw_pb(tensor, step=None, name=None) -> bool:
    """Append serialized ``Summary`` protocol buffers (bytes, or an array of them) as they are."""
    if not should_record_summaries():
        return False
    step = resolve_step(step)
    _, summary_pb2, _, _ = import_tensorboard("tf.summary.experimental.write_raw_pb")
    for raw in np.asarray(tensor, dtype=object).ravel():
        _write_summary(summary_pb2.Summary.FromString(raw), step)
    return True


def graph(graph_data) -> bool:
    """Write a ``GraphDef`` (protocol buffer, or anything with ``as_graph_def()``) for the Graphs dashboard.

    featherflow runs eagerly and builds no graphs of its own; Keras models are drawn from their
    config by the ``TensorBoard`` callback instead.
    """
    if not should_record_summaries():
        return False
    event_pb2, _, _, _ = import_tensorboard("tf.summary.graph")
    graph_def = graph_data.as_graph_def() if hasattr(graph_data, "as_graph_def") else graph_data
    if not hasattr(graph_def, "SerializeToString"):
        raise TypeError(f"`tf.summary.graph` expects a GraphDef protocol buffer. Received: {type(graph_data)}")
    event = event_pb2.Event(wall_time=time.time(), graph_def=graph_def.SerializeToString())
    _writer.get_default_writer().write_event(event)
    return True
