"""The restricted unpickler: the real (Python 2) CIFAR batch format parses, code never runs."""

import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

from featherflow.keras.datasets._safe_pickle import load_npz, restricted_loads
from featherflow.keras.datasets.cifar import load_batch


def python2_cifar_batch(data: np.ndarray, labels: list) -> bytes:
    """A protocol-2 pickle assembled opcode by opcode the way Python 2 + NumPy 1.x wrote the CIFAR
    batches: str values as SHORT_BINSTRING, `numpy.core.multiarray._reconstruct`, `numpy.dtype`."""

    def short_string(text: bytes) -> bytes:
        return b"U" + bytes([len(text)]) + text

    def binstring(raw: bytes) -> bytes:
        return b"T" + struct.pack("<I", len(raw)) + raw

    rows, cols = data.shape
    out = b"\x80\x02}q\x00("
    out += short_string(b"data")
    out += b"cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85" + short_string(b"b") + b"\x87R"
    out += b"(K\x01" + b"M" + struct.pack("<H", rows) + b"M" + struct.pack("<H", cols) + b"\x86"
    out += b"cnumpy\ndtype\n" + short_string(b"u1") + b"K\x00K\x01\x87R"
    out += b"(K\x03" + short_string(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    out += b"\x89" + binstring(data.tobytes()) + b"tb"
    out += short_string(b"labels") + b"](" + b"".join(b"K" + bytes([v]) for v in labels) + b"e"
    out += short_string(b"batch_label") + short_string(b"training batch 1 of 5")
    out += b"u."
    return out


def test_python2_style_cifar_batch(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, (3, 3072), dtype=np.uint8)
    raw = python2_cifar_batch(data, [6, 9, 9])
    # sanity: the hand-assembled stream is a valid pickle of the expected content
    assert pickle.loads(raw, encoding="bytes")[b"labels"] == [6, 9, 9]
    path = tmp_path / "data_batch_1"
    path.write_bytes(raw)
    images, labels = load_batch(str(path))
    assert images.shape == (3, 3, 32, 32) and images.dtype == np.uint8
    np.testing.assert_array_equal(images.reshape(3, -1), data)
    assert labels == [6, 9, 9]


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo should-never-run",))


class _Custom:
    pass


@pytest.mark.parametrize(
    "payload",
    [
        _RunsCode(),
        {"data": _RunsCode()},
        _Custom(),
        np.float64(1.5),  # a NumPy scalar needs `numpy.core.multiarray.scalar`: not a plain value
        np.zeros(2, dtype=[("a", "i4")]),  # structured dtype
        pickle.dumps,  # a function
    ],
)
def test_refused(payload):
    with pytest.raises(pickle.UnpicklingError):
        restricted_loads(pickle.dumps(payload, protocol=2))


def test_direct_ndarray_call_refused():
    # GLOBAL numpy.ndarray then REDUCE with a buffer: ndarray is only accepted inside _reconstruct
    raw = b"\x80\x02cnumpy\nndarray\nK\x02\x85R."
    with pytest.raises((pickle.UnpicklingError, TypeError)):
        restricted_loads(raw)


def test_plain_values_pass():
    value = {"a": [1, 2.5, "x", b"y", None, True, (3, 4)], "arr": np.arange(4, dtype=np.int16)}
    out = restricted_loads(pickle.dumps(value, protocol=4))
    assert out["a"] == value["a"]
    np.testing.assert_array_equal(out["arr"], value["arr"])
    assert out["arr"].dtype == np.int16


def test_npz_object_arrays_safe(tmp_path):
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = [1, 2, 3], [4]
    np.savez(tmp_path / "ok.npz", x=ragged, y=np.array([0, 1]))
    out = load_npz(tmp_path / "ok.npz")
    assert [list(v) for v in out["x"]] == [[1, 2, 3], [4]] and out["y"].tolist() == [0, 1]

    evil = np.empty(1, dtype=object)
    evil[0] = _RunsCode()
    buffer = io.BytesIO()
    np.save(buffer, evil, allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as archive:
        archive.writestr("x.npy", buffer.getvalue())
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load"):
        load_npz(tmp_path / "evil.npz")


def test_module_examples_do_not_depend_on_what_print_is(monkeypatch):
    """Ray's driver replaces ``builtins.print`` with its own (``tqdm_ray.safe_print``) once workers log; the
    module's examples must still hold whatever ran before them in the process."""
    import builtins
    import doctest

    from featherflow.keras.datasets import _safe_pickle

    def replacement(*args, **kwargs):  # defined here, as Ray's is in its own module
        return None

    monkeypatch.setattr(builtins, "print", replacement)
    result = doctest.testmod(_safe_pickle, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3 and result.failed == 0
