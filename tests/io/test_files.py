"""tf.io's file and byte-string ops and tf.io.gfile, with TensorFlow 2.21's results and error texts."""

import gzip
import os
import zlib

import numpy as np
import pytest

import featherflow as tf

gfile = tf.io.gfile


def test_read_and_write_file(tmp_path):
    path = tmp_path / "sub" / "dir" / "f.bin"
    tf.io.write_file(str(path), tf.constant(b"\x00abc"))  # TensorFlow creates the missing directories
    assert tf.io.read_file(str(path)).numpy() == b"\x00abc"
    tf.io.write_file(str(path), "héllo")
    assert tf.io.read_file(path).numpy() == "héllo".encode()
    assert os.listdir(path.parent) == ["f.bin"]  # no temporary file left
    with pytest.raises(tf.errors.NotFoundError, match="^/nonexistent/x; No such file or directory$"):
        tf.io.read_file("/nonexistent/x")
    with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
        tf.io.read_file(str(tmp_path))


def test_matching_files(tmp_path):
    for name in ("b.txt", "a.txt", "c.csv"):
        (tmp_path / name).write_text("x")
    found = tf.io.matching_files(str(tmp_path / "*.txt")).numpy().tolist()
    assert found == [str(tmp_path / "a.txt").encode(), str(tmp_path / "b.txt").encode()]
    assert tf.io.matching_files(str(tmp_path / "*.none")).numpy().size == 0
    assert len(tf.io.match_filenames_once([str(tmp_path / "*.txt"), str(tmp_path / "*.csv")]).numpy()) == 3


def test_decode_raw():
    out = tf.io.decode_raw(tf.constant([b"\x01\x00\x02\x00", b"\x03\x00\x04\x00"]), tf.int16)
    assert out.numpy().tolist() == [[1, 2], [3, 4]] and out.dtype == tf.int16
    assert tf.io.decode_raw(b"\x01\x00\x02\x00", tf.int16, little_endian=False).numpy().tolist() == [256, 512]
    fixed = tf.io.decode_raw(tf.constant([b"\x01\x02\x03", b"\x04"]), tf.uint8, fixed_length=2)
    assert fixed.numpy().tolist() == [[1, 2], [4, 0]]
    np.testing.assert_array_equal(tf.io.decode_raw(np.float32([1.5, -2]).tobytes(), tf.float32), [1.5, -2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="^DecodeRaw requires input strings to all be the same "
                                                             "size, but element 1 has size 3 != 4$"):
        tf.io.decode_raw(tf.constant([b"\x01\x00\x02\x00", b"\x03\x00\x04"]), tf.int16)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Value for attr 'out_type' of string"):
        tf.io.decode_raw(b"ab", tf.string)


def test_decode_csv():
    # Expected values printed by TensorFlow 2.21 for the same calls.
    cols = tf.io.decode_csv(["1,2.5,a", '3,,"b,c"'], record_defaults=[[0], [0.0], [""]])
    assert [c.numpy().tolist() for c in cols] == [[1, 3], [2.5, 0.0], [b"a", b"b,c"]]
    assert [c.dtype for c in cols] == [tf.int32, tf.float32, tf.string]
    cols = tf.io.decode_csv("1;2", record_defaults=[[0], [0.0]], field_delim=";")
    assert cols[0].shape == () and float(cols[1]) == 2.0
    assert [c.numpy().tolist() for c in tf.io.decode_csv(["1,2,3"], [[0], [0]], select_cols=[0, 2])] == [[1], [3]]
    assert tf.io.decode_csv(["1,NA"], [[0], [7]], na_value="NA")[1].numpy().tolist() == [7]
    assert tf.io.decode_csv(['"a""b",x'], [[""], [""]])[0].numpy().tolist() == [b'a"b']
    assert tf.io.decode_csv(['"a",x'], [[""], [""]], use_quote_delim=False)[0].numpy().tolist() == [b'"a"']
    big = tf.io.decode_csv(["99999999999,1e3, 2"], [tf.constant([0], tf.int64), [0.0], [0]])
    assert [c.numpy().tolist() for c in big] == [[99999999999], [1000.0], [2]]
    assert tf.io.decode_csv(["2.5"], [tf.constant([0], tf.float64)])[0].dtype == tf.float64
    for records, defaults, message in [
        (["1,2.5,a", '3,,"b,c"'], [[0], tf.constant([], tf.float32), [""]], "Field 1 is required but missing in "
                                                                           "record 1!"),
        (["1,2"], [[0], [0], [0]], "Expect 3 fields but have 2 in record 0"),
        (["x,2"], [[0], [0]], "Field 0 in record 0 is not a valid int32: x"),
        (["2.5"], [[0]], "Field 0 in record 0 is not a valid int32: 2.5"),
        (['a"b,x'], [[""], [""]], "Unquoted fields cannot have quotes/CRLFs inside"),
    ]:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            tf.io.decode_csv(records, defaults)
        assert str(info.value) == message


def test_base64_and_compressed():
    assert tf.io.encode_base64([b"hello?>", b""]).numpy().tolist() == [b"aGVsbG8_Pg", b""]
    assert tf.io.encode_base64(b"hello?>", pad=True).numpy() == b"aGVsbG8_Pg=="
    assert tf.io.decode_base64("aGVsbG8_Pg").numpy() == b"hello?>"
    with pytest.raises(tf.errors.InvalidArgumentError, match="Base64 string length cannot be 1 modulo 4."):
        tf.io.decode_base64("a")
    assert tf.io.decode_compressed([zlib.compress(b"abc")], "ZLIB").numpy().tolist() == [b"abc"]
    assert tf.io.decode_compressed(gzip.compress(b"abc"), "GZIP").numpy() == b"abc"
    assert tf.io.decode_compressed(b"abc").numpy() == b"abc"


def test_image_codecs_are_featherflow_images():
    assert tf.io.decode_png is tf.image.decode_png and tf.io.encode_jpeg is tf.image.encode_jpeg
    assert "decode_image" in dir(tf.io)


def test_gfile_file_object(tmp_path):
    path = str(tmp_path / "f.txt")
    with gfile.GFile(path, "w") as f:
        f.write("héllo\nworld\n")
        assert f.tell() == 13  # bytes, as TensorFlow counts
    with gfile.GFile(path, "r") as f:
        assert f.read(3) == "hé" and f.readline() == "llo\n" and f.readlines() == ["world\n"]
        assert f.size() == 13 and f.tell() == 13
    with gfile.GFile(path, "rb") as f:
        assert f.read() == "héllo\nworld\n".encode() and f.name == path and f.mode == "rb"
    with gfile.GFile(path) as f:
        assert list(f) == ["héllo\n", "world\n"]
        f.seek(3)
        assert f.read(2) == "ll" and f.seekable()
    gfile.GFile(path, "a").write(b"more")
    assert open(path, encoding="utf-8").read().endswith("world\nmore")
    lazy = gfile.GFile(str(tmp_path / "nope"))  # opened on first use, as TensorFlow's
    with pytest.raises(tf.errors.NotFoundError, match="nope; No such file or directory$"):
        lazy.read()
    with pytest.raises(tf.errors.InvalidArgumentError, match="mode is not 'r' or 'w'"):
        gfile.GFile(path, "x")
    with pytest.raises(tf.errors.PermissionDeniedError, match="File isn't open for writing"):
        gfile.GFile(path, "r").write("x")
    with pytest.raises(tf.errors.PermissionDeniedError, match="File isn't open for reading"):
        gfile.GFile(str(tmp_path / "w.txt"), "w").read()


def test_gfile_functions(tmp_path):
    d = str(tmp_path)
    gfile.makedirs(d + "/a/b")
    gfile.makedirs(d + "/a/b")
    gfile.mkdir(d)
    with pytest.raises(tf.errors.NotFoundError, match="/x/y; No such file or directory"):
        gfile.mkdir(d + "/x/y")
    with gfile.GFile(d + "/f.txt", "w") as f:
        f.write("12345")
    with pytest.raises(tf.errors.AlreadyExistsError, match="^file already exists$"):
        gfile.copy(d + "/f.txt", d + "/f.txt")
    gfile.copy(d + "/f.txt", d + "/a/g.txt")
    with pytest.raises(tf.errors.AlreadyExistsError):
        gfile.rename(d + "/f.txt", d + "/a/g.txt")
    gfile.rename(d + "/f.txt", d + "/a/g.txt", overwrite=True)
    assert not gfile.exists(d + "/f.txt") and gfile.exists(d + "/a/g.txt")
    assert sorted(gfile.listdir(d)) == ["a"] and sorted(gfile.listdir(d + "/a")) == ["b", "g.txt"]
    with pytest.raises(tf.errors.NotFoundError, match="^Could not find directory "):
        gfile.listdir(d + "/a/g.txt")
    assert list(gfile.walk(d)) == [(d, ["a"], []), (d + "/a", ["b"], ["g.txt"]), (d + "/a/b", [], [])]
    assert [w[0] for w in gfile.walk(d, topdown=False)] == [d + "/a/b", d + "/a", d]
    assert list(gfile.walk(d + "/missing")) == []
    info = gfile.stat(d + "/a/g.txt")
    assert info.length == 5 and not info.is_directory and gfile.stat(d).is_directory
    assert gfile.glob(d + "/a/*.txt") == [d + "/a/g.txt"]
    assert gfile.isdir(d) and not gfile.isdir(d + "/a/g.txt") and gfile.join("a", "b", "c") == "a/b/c"
    with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
        gfile.remove(d + "/a")
    with pytest.raises(tf.errors.NotFoundError, match="No such file or directory"):
        gfile.remove(d + "/nope")
    with pytest.raises(tf.errors.NotFoundError, match="not found"):
        gfile.rmtree(d + "/nope")
    assert gfile.exists("file://" + d + "/a/g.txt")
    gfile.remove(d + "/a/g.txt")
    gfile.rmtree(d + "/a")
    assert gfile.listdir(d) == [] and "file" in gfile.get_registered_schemes()
