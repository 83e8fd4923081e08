"""Building blocks: atomic writes, the defensive zip reader, the .npz and HDF5 weights formats."""

import io
import json
import os
import stat
import zipfile

import numpy as np
import pytest
from saving_helpers import archive_bytes, dense_config, dense_weights, npy_bytes_with_header, zip_bytes

from featherflow.keras import saving
from featherflow.keras.saving import archive, atomic, weights_formats
from featherflow.keras.saving.errors import InvalidArchiveError, UnsafeModelError

DTYPES = ["float16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool", "complex64"]
SHAPES = [(), (0,), (3,), (2, 0, 4), (2, 3, 4), (1, 1)]


def _sample(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 10).astype(dtype)


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_weights_formats_round_trip_every_dtype_and_shape(fmt):
    if fmt == "h5":
        pytest.importorskip("h5py")
    weights = {f"layers/l{i}/vars/{j}": _sample(shape, dtype, i * 10 + j)
               for i, dtype in enumerate(DTYPES) for j, shape in enumerate(SHAPES)}
    encode, decode = ((weights_formats.encode_npz, weights_formats.decode_npz) if fmt == "npz"
                      else (weights_formats.encode_h5, weights_formats.decode_h5))
    back = decode(encode(weights))
    assert set(back) == set(weights)
    for key, value in weights.items():
        assert back[key].dtype == value.dtype and back[key].shape == value.shape, key
        np.testing.assert_array_equal(back[key], value)


def test_npz_fortran_order_and_big_endian_arrays_decode_correctly():
    fortran = np.asfortranarray(np.arange(12, dtype="float32").reshape(3, 4))
    big = np.arange(5, dtype=">i4")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as handle:
        for key, value in {"a": fortran, "b": big}.items():
            with handle.open(key + ".npy", "w") as member:
                np.lib.format.write_array(member, value, allow_pickle=False)
    back = weights_formats.decode_npz(buffer.getvalue())
    np.testing.assert_array_equal(back["a"], fortran)
    np.testing.assert_array_equal(back["b"], big)


def test_npz_written_by_numpy_savez_is_read():
    buffer = io.BytesIO()
    np.savez(buffer, **{"vars/0": np.ones((2, 2), "float32")})
    np.testing.assert_array_equal(weights_formats.decode_npz(buffer.getvalue())["vars/0"], np.ones((2, 2)))


def test_npz_header_claiming_more_or_less_data_is_refused():
    npy = npy_bytes_with_header({"descr": "<f8", "fortran_order": False, "shape": (2,)}, b"\0" * 24)
    with pytest.raises(InvalidArchiveError, match="stores 24 bytes"):
        weights_formats.decode_npz(zip_bytes({"x.npy": npy}))


def test_encoders_refuse_object_arrays():
    with pytest.raises(UnsafeModelError):
        weights_formats.encode_npz({"x": np.array([object()], dtype=object)})


def test_limits_can_be_tightened():
    data = weights_formats.encode_npz({"x": np.zeros(1000, "float32")})
    tight = archive.Limits(max_member_bytes=1000)
    with pytest.raises(InvalidArchiveError, match="beyond the limit"):
        weights_formats.decode_npz(data, tight)


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/abs", "C:/x", "a\\b", "a//b", "./a", "a\x00b", ""])
def test_member_names_are_checked(name):
    with pytest.raises(UnsafeModelError):
        archive.check_member_name(name)


def test_safe_archive_reads_members_and_detects_crc_corruption():
    data = archive.write_zip({"a.txt": b"hello world" * 10})
    assert archive.SafeArchive.from_bytes(data).read("a.txt") == b"hello world" * 10
    corrupted = bytearray(data)
    position = corrupted.find(b"hello")
    corrupted[position] ^= 0xFF
    with pytest.raises(InvalidArchiveError, match="Bad CRC|corrupted"):
        archive.SafeArchive.from_bytes(bytes(corrupted)).read("a.txt")


def test_write_zip_marks_members_as_regular_files():
    info = zipfile.ZipFile(io.BytesIO(archive.write_zip({"a": b"1"}))).getinfo("a")
    assert stat.S_ISREG(info.external_attr >> 16)


def test_atomic_write_replaces_and_keeps_permissions(tmp_path):
    path = tmp_path / "file.bin"
    atomic.atomic_write_bytes(path, b"one")
    os.chmod(path, 0o640)
    atomic.atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.listdir(tmp_path) == ["file.bin"]


def test_atomic_write_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"good")
    with pytest.raises(RuntimeError):
        with atomic.atomic_open(path) as handle:
            handle.write(b"partial")
            raise RuntimeError("crash while writing")
    assert path.read_bytes() == b"good"
    assert os.listdir(tmp_path) == ["file.bin"]


def test_atomic_directory_swap(tmp_path):
    target = tmp_path / "model"
    atomic.atomic_write_directory(target, {"a.json": b"1", "sub/b.bin": b"2"})
    atomic.atomic_write_directory(target, {"a.json": b"3"})
    assert sorted(os.listdir(target)) == ["a.json"] and (target / "a.json").read_bytes() == b"3"
    assert sorted(os.listdir(tmp_path)) == ["model"]


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_archive_of_a_layer_loads_with_weights(tmp_path, fmt):
    if fmt == "h5":
        pytest.importorskip("h5py")
    path = tmp_path / "layer.keras"
    path.write_bytes(archive_bytes(dense_config(), weights_format=fmt))
    layer = saving.load_model(str(path))
    for variable, key in zip(layer.weights, ["vars/0", "vars/1"]):
        np.testing.assert_array_equal(variable.numpy(), dense_weights()[key])


def test_archive_without_metadata_or_hash_still_loads(tmp_path):
    data = zip_bytes({"config.json": json.dumps(dense_config()).encode(),
                      "model.weights.npz": weights_formats.encode_npz(dense_weights())})
    path = tmp_path / "plain.keras"
    path.write_bytes(data)
    assert saving.load_model(str(path)).units == 2


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        saving.load_model(str(tmp_path / "nothing.keras"))


def test_load_model_argument_checks(tmp_path):
    with pytest.raises(TypeError, match="custom_objects"):
        saving.load_model(str(tmp_path / "x.keras"), custom_objects=["not", "a", "dict"])
    with pytest.raises(TypeError, match="unexpected keyword"):
        saving.load_model(str(tmp_path / "x.keras"), bogus=1)
