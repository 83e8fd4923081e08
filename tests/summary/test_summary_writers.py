"""tf.summary: event files written here and read back with TensorBoard's own event reader."""

import io
import os
import struct
import wave
import zlib

import numpy as np
import pytest

import featherflow as tf

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_file_loader  # noqa: E402
from tensorboard.plugins.histogram.summary_v2 import histogram_pb  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402


def read_events(logdir):
    """``[(step, tag, plugin_name, array)]`` of every summary value in ``logdir``'s event files, in order."""
    out = []
    for name in sorted(os.listdir(logdir)):
        for event in event_file_loader.LegacyEventFileLoader(os.path.join(logdir, name)).Load():
            for value in event.summary.value:
                out.append((event.step, value.tag, value.metadata.plugin_data.plugin_name,
                            tensor_util.make_ndarray(value.tensor)))
    return out


def decode_png(data: bytes) -> np.ndarray:
    """A minimal PNG reader (8-bit, unfiltered rows), independent of the writer's code."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        payload = data[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + payload) == struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", payload)
        elif kind == b"IDAT":
            idat += payload
        pos += 12 + length
    width, height, depth, color = header[:4]
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = zlib.decompress(idat)
    rows = [raw[r * (width * channels + 1):(r + 1) * (width * channels + 1)] for r in range(height)]
    assert depth == 8 and all(row[0] == 0 for row in rows)
    return np.frombuffer(b"".join(row[1:] for row in rows), np.uint8).reshape(height, width, channels)


def test_file_writer_writes_a_tf2_event_file(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path / "run"))
    with writer.as_default(step=3):
        assert tf.summary.scalar("loss", 0.5) is True
        assert tf.summary.scalar("acc", tf.constant(0.75), step=4) is True
    writer.close()
    files = os.listdir(tmp_path / "run")
    assert len(files) == 1 and files[0].startswith("events.out.tfevents.") and files[0].endswith(".v2")
    events = list(event_file_loader.LegacyEventFileLoader(str(tmp_path / "run" / files[0])).Load())
    assert events[0].file_version == "brain.Event:2"
    got = [(s, t, p, float(a)) for s, t, p, a in read_events(tmp_path / "run")]
    assert got == [(3, "loss", "scalars", 0.5), (4, "acc", "scalars", 0.75)]


def test_histogram_matches_tensorboards_own_buckets(tmp_path):
    data = np.random.default_rng(0).normal(size=(7, 11))
    with tf.summary.create_file_writer(str(tmp_path)).as_default(step=0):
        tf.summary.histogram("w", data)
        tf.summary.histogram("few", [1.0, 1.0, 1.0], buckets=4)
        tf.summary.histogram("none", np.zeros((0,)), buckets=2, step=1)
    got = {tag: (plugin, arr) for _, tag, plugin, arr in read_events(tmp_path)}
    for tag, values, buckets in (("w", data, None), ("few", [1.0, 1.0, 1.0], 4), ("none", np.zeros((0,)), 2)):
        expected = tensor_util.make_ndarray(histogram_pb(tag, values, buckets=buckets).value[0].tensor)
        assert got[tag][0] == "histograms"
        np.testing.assert_allclose(got[tag][1], expected, rtol=1e-12)
    assert got["w"][1][:, 2].sum() == data.size


def test_image_is_png_with_tensorflows_uint8_rule(tmp_path):
    floats = np.array([0.0, 0.5, 0.999, 1.2, -0.1, 0.001], "float32").reshape(1, 2, 3, 1)
    rgb = np.random.default_rng(1).integers(0, 256, size=(4, 3, 5, 3)).astype("uint8")
    with tf.summary.create_file_writer(str(tmp_path)).as_default(step=2):
        tf.summary.image("grey", floats)
        tf.summary.image("rgb", rgb, max_outputs=2)
    got = {tag: arr for _, tag, _, arr in read_events(tmp_path)}
    width, height, png = got["grey"]
    assert (width, height) == (b"3", b"2")
    np.testing.assert_array_equal(decode_png(png)[..., 0], [[0, 127, 255], [255, 0, 0]])
    assert len(got["rgb"]) == 4  # width, height and two images (max_outputs)
    np.testing.assert_array_equal(decode_png(got["rgb"][2]), rgb[0])
    np.testing.assert_array_equal(decode_png(got["rgb"][3]), rgb[1])
    with pytest.raises(ValueError, match="channels"), tf.summary.create_file_writer(str(tmp_path)).as_default(step=0):
        tf.summary.image("bad", np.zeros((1, 2, 2, 5)))


def test_text_and_audio(tmp_path):
    clip = np.array([[[0.5], [-1.0], [0.33333], [1.5], [-0.00002]]], "float32")
    with tf.summary.create_file_writer(str(tmp_path)).as_default(step=1):
        tf.summary.text("note", "**hello**")
        tf.summary.text("table", [["a", "b"]])
        tf.summary.audio("sound", clip, sample_rate=8000)
    got = {tag: (plugin, arr) for _, tag, plugin, arr in read_events(tmp_path)}
    assert got["note"][0] == "text" and got["note"][1] == b"**hello**"
    assert got["table"][1].tolist() == [[b"a", b"b"]]
    plugin, encoded = got["sound"]
    assert plugin == "audio" and encoded.shape == (1, 2) and encoded[0, 1] == b""
    with wave.open(io.BytesIO(encoded[0, 0])) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        samples = struct.unpack("<5h", wav.readframes(5))
    assert samples == (16384, -32768, 10923, 32767, -1)  # what tf.audio.encode_wav gives for these values


def test_write_and_raw_protos(tmp_path):
    from tensorboard.compat.proto import summary_pb2

    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = "custom"
    raw = summary_pb2.Summary()
    raw.value.add(tag="raw_scalar", tensor=tensor_util.make_tensor_proto(np.float32(2.5)))
    with tf.summary.create_file_writer(str(tmp_path)).as_default(step=5):
        assert tf.summary.write("ints", tf.constant([1, 2, 3]), metadata=metadata)
        assert tf.summary.write("json", np.array('{"a": 1}', dtype=object), metadata=metadata.SerializeToString())
        assert tf.summary.experimental.write_raw_pb(raw.SerializeToString())
    got = {tag: (step, plugin, arr) for step, tag, plugin, arr in read_events(tmp_path)}
    assert got["ints"][1] == "custom" and got["ints"][2].tolist() == [1, 2, 3]
    assert got["json"][2] == b'{"a": 1}'
    assert got["raw_scalar"][0] == 5 and float(got["raw_scalar"][2]) == 2.5


def test_no_writer_record_if_and_noop(tmp_path):
    assert tf.summary.scalar("x", 1.0, step=0) is False
    assert not tf.summary.should_record_summaries()
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default(step=0):
        assert tf.summary.should_record_summaries()
        with tf.summary.record_if(False):
            assert tf.summary.scalar("skipped", 1.0) is False
        steps = iter(range(4))
        with tf.summary.record_if(lambda: next(steps) % 2 == 0):
            written = [tf.summary.scalar("every_other", float(i), step=i) for i in range(4)]
        assert written == [True, False, True, False]
    with tf.summary.create_noop_writer().as_default(step=0):
        assert tf.summary.scalar("x", 1.0) is False
    assert [(s, t) for s, t, _, _ in read_events(tmp_path)] == [(0, "every_other"), (2, "every_other")]


def test_steps_scopes_and_errors(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    counter = tf.Variable(0, dtype="int64")
    with writer.as_default():
        with pytest.raises(ValueError, match="No step set"):
            tf.summary.scalar("x", 1.0)
        tf.summary.experimental.set_step(counter)
        try:
            counter.assign(7)
            tf.summary.scalar("read_at_write_time", 1.0)
            with tf.summary.experimental.summary_scope("block") as (tag, scope):
                assert (tag, scope) == ("block", "block/")
                tf.summary.scalar("inner", 2.0)
            with tf.name_scope("train"):  # tf.name_scope prefixes tags, as in TensorFlow
                tf.summary.scalar("loss", 3.0)
            assert tf.summary.experimental.get_step() is counter
        finally:
            tf.summary.experimental.set_step(None)
        with pytest.raises(ValueError, match="scalar"):
            tf.summary.scalar("vector", [1.0, 2.0], step=0)
        with pytest.raises(ValueError, match="integer"):
            tf.summary.scalar("x", 1.0, step=1.5)
    writer.close()
    with pytest.raises(RuntimeError, match="already closed"), writer.as_default(step=1):
        tf.summary.scalar("closed", 1.0)
    assert [(s, t) for s, t, _, _ in read_events(tmp_path)] == [(7, "read_at_write_time"), (7, "block/inner"),
                                                                 (7, "train/loss")]


def test_writer_default_nesting_and_flush(tmp_path):
    first = tf.summary.create_file_writer(str(tmp_path / "a"), flush_millis=10 ** 7)
    second = tf.summary.create_file_writer(str(tmp_path / "b"), filename_suffix=".mine")
    first.set_as_default(step=1)
    try:
        with second.as_default(step=2):
            tf.summary.scalar("inner", 1.0)
        tf.summary.scalar("outer", 1.0)
        tf.summary.flush()
        assert [(s, t) for s, t, _, _ in read_events(tmp_path / "a")] == [(1, "outer")]  # flushed, not closed
    finally:
        from featherflow.summary import _writer

        _writer._state.writer = None
        _writer._state.step = None
    assert [(s, t) for s, t, _, _ in read_events(tmp_path / "b")] == [(2, "inner")]
    assert os.listdir(tmp_path / "b")[0].endswith(".mine")
    assert isinstance(first, tf.summary.SummaryWriter)
    first.close()
    second.close()


def test_graph_def_is_written(tmp_path):
    from tensorboard.compat.proto import graph_pb2

    graph_def = graph_pb2.GraphDef()
    graph_def.node.add(name="x", op="Placeholder")
    with tf.summary.create_file_writer(str(tmp_path)).as_default(step=0):
        assert tf.summary.graph(graph_def)
        with pytest.raises(TypeError, match="GraphDef"):
            tf.summary.graph("not a graph")
    name = os.listdir(tmp_path)[0]
    graphs = [e.graph_def for e in event_file_loader.LegacyEventFileLoader(str(tmp_path / name)).Load()
              if e.graph_def]
    assert graph_pb2.GraphDef.FromString(graphs[0]).node[0].name == "x"


def test_missing_tensorboard_names_the_extra(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    with pytest.raises(ImportError, match=r'featherflow\[tensorboard\]'):
        tf.summary.create_file_writer(str(tmp_path))
    with pytest.raises(ImportError, match=r'featherflow\[tensorboard\]'):
        tf.keras.callbacks.TensorBoard(str(tmp_path))


def test_summaries_inside_a_tf_function_are_written_at_every_call(tmp_path):
    # TensorFlow's summary ops run in the graph: one event per call, with the step and record_if of that call
    writer = tf.summary.create_file_writer(str(tmp_path))
    step = tf.Variable(0, dtype=tf.int64)

    @tf.function
    def log(x):
        tf.summary.scalar("mean", tf.reduce_mean(x), step=step)
        tf.summary.histogram("values", x, step=step, buckets=2)
        return x * 2.0

    with writer.as_default():
        for i in range(3):
            step.assign(i)
            with tf.summary.record_if(i != 1):
                log(tf.constant([float(i), float(i) + 2.0]))
    writer.flush()
    assert log.experimental_get_tracing_count() == 1
    scalars = [(s, float(a)) for s, t, _, a in read_events(tmp_path) if t == "mean"]
    assert scalars == [(0, 1.0), (2, 3.0)]
    assert [s for s, t, _, _ in read_events(tmp_path) if t == "values"] == [0, 2]
