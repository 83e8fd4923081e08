"""Every loader against a real HTTP server on 127.0.0.1 serving small files in the real formats."""

import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import tarfile

import numpy as np
import pytest

# The HTTP server helper lives beside the get_file tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "utils"))
from ff_local_http import (  # noqa: E402, F401 - the fixtures are used by name
    closed_port_url,
    files_under,
    keras_home_fixture,
    mirror_fixture,
    server_fixture,
)

from featherflow.keras.datasets import (
    _files,
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
from featherflow.keras.utils.file_utils import DownloadError


def publish(server, monkeypatch, name, data, register_hash=True):
    """Serve ``data`` as ``name``; the test file is not the real one, so its own sha256 stands in
    for the published hash (the verification code runs unchanged)."""
    server.add(name, data)
    if register_hash:
        monkeypatch.setitem(_files.FILE_HASHES, name, hashlib.sha256(data).hexdigest())


def npz_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def object_array(lists):
    out = np.empty(len(lists), dtype=object)
    for i, item in enumerate(lists):
        out[i] = list(item)
    return out


# ----------------------------------------------------------------------------------------- mnist
def mnist_arrays(rng):
    return {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": np.array([5, 0, 4, 1, 9, 2], np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": np.array([7, 2, 1], np.uint8),
    }


def test_mnist_download_parse_and_cache(mirror, monkeypatch, rng):
    arrays = mnist_arrays(rng)
    publish(mirror, monkeypatch, "mnist.npz", npz_bytes(**arrays))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for name, got in [("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)]:
        np.testing.assert_array_equal(got, arrays[name])
        assert got.dtype == np.uint8
    assert x_train.shape == (6, 28, 28) and y_test.shape == (3,)
    mnist.load_data()
    assert mirror.count("mnist.npz") == 1  # second call: from the cache
    assert files_under(mirror.home) == [os.path.join("datasets", "mnist.npz")]


def test_mnist_published_hash_mismatch_leaves_nothing(mirror, rng):
    # The real published sha256 stays in place: a file that is not the real mnist.npz is refused.
    mirror.add("mnist.npz", npz_bytes(**mnist_arrays(rng)))
    with pytest.raises(ValueError, match="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"):
        mnist.load_data()
    assert files_under(mirror.home) == []


def test_mnist_interrupted_download(mirror, monkeypatch, rng):
    data = npz_bytes(**mnist_arrays(rng))
    publish(mirror, monkeypatch, "mnist.npz", data)
    mirror.truncate["mnist.npz"] = len(data) // 2
    with pytest.raises(DownloadError, match="interrupted"):
        mnist.load_data()
    assert files_under(mirror.home) == []


def test_mnist_offline_error_text(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.delenv("FEATHERFLOW_DATASETS_ORIGIN", raising=False)
    base = closed_port_url()
    monkeypatch.setenv("FEATHERFLOW_DATASETS_ORIGIN", base)
    with pytest.raises(DownloadError) as info:
        mnist.load_data()
    message = str(info.value)
    assert "'mnist.npz'" in message  # the file
    assert os.path.join(str(tmp_path / "kh"), "datasets", "mnist.npz") in message  # where to put it
    assert base + "mnist.npz" in message  # the URL tried
    assert "FEATHERFLOW_DATASETS_ORIGIN" in message
    assert "mnist.load_data(sample=True)" in message  # the explicit offline alternative
    assert files_under(tmp_path / "kh") == []


def test_origin_without_mirror_is_tf_keras(monkeypatch):
    monkeypatch.delenv("FEATHERFLOW_DATASETS_ORIGIN", raising=False)
    assert _files.dataset_origin(_files.KERAS_DATASETS_BASE + "mnist.npz") == (
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    )
    assert _files.dataset_origin(cifar10.ORIGIN) == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    monkeypatch.setenv("FEATHERFLOW_DATASETS_ORIGIN", "file:///srv/mirror/")
    assert _files.dataset_origin(cifar10.ORIGIN) == "file:///srv/mirror/cifar-10-python.tar.gz"


# --------------------------------------------------------------------------------- fashion-mnist
def idx_labels(labels):
    return gzip.compress(struct.pack(">II", 2049, len(labels)) + bytes(labels))


def idx_images(images):
    images = np.asarray(images, np.uint8)
    return gzip.compress(struct.pack(">IIII", 2051, len(images), 28, 28) + images.tobytes())


def test_fashion_mnist(mirror, rng):
    x_train = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (2, 28, 28), dtype=np.uint8)
    mirror.add("train-labels-idx1-ubyte.gz", idx_labels([9, 0, 0, 3]))
    mirror.add("train-images-idx3-ubyte.gz", idx_images(x_train))
    mirror.add("t10k-labels-idx1-ubyte.gz", idx_labels([9, 2]))
    mirror.add("t10k-images-idx3-ubyte.gz", idx_images(x_test))
    (a, b), (c, d) = fashion_mnist.load_data()
    np.testing.assert_array_equal(a, x_train)
    np.testing.assert_array_equal(b, [9, 0, 0, 3])
    np.testing.assert_array_equal(c, x_test)
    np.testing.assert_array_equal(d, [9, 2])
    assert a.dtype == b.dtype == np.uint8 and a.shape == (4, 28, 28)
    assert (mirror.cache / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").is_file()  # tf.keras's layout
    fashion_mnist.load_data()
    assert len(mirror.requests) == 4


@pytest.mark.parametrize(
    "bad, match",
    [
        (gzip.compress(struct.pack(">II", 2051, 2) + b"\x01\x02"), "magic number 2051"),
        (gzip.compress(struct.pack(">II", 2049, 3) + b"\x01\x02"), "announces 3 labels"),
        (gzip.compress(struct.pack(">II", 2049, 2) + b"\x01\x02")[:-6], "not a complete gzip file"),
    ],
)
def test_fashion_mnist_integrity_checks(mirror, rng, bad, match):
    mirror.add("train-labels-idx1-ubyte.gz", bad)
    mirror.add("train-images-idx3-ubyte.gz", idx_images(rng.integers(0, 256, (2, 28, 28))))
    mirror.add("t10k-labels-idx1-ubyte.gz", idx_labels([1]))
    mirror.add("t10k-images-idx3-ubyte.gz", idx_images(rng.integers(0, 256, (1, 28, 28))))
    with pytest.raises(ValueError, match=match):
        fashion_mnist.load_data()
    assert not (mirror.cache / "fashion-mnist" / "train-labels-idx1-ubyte.gz").exists()  # removed


# ----------------------------------------------------------------------------------------- CIFAR
def cifar_batch(data, **labels):
    # The real batches are Python 2 pickles of a dict with bytes keys and a uint8 array.
    batch = {b"batch_label": b"testing batch 1 of 1", b"data": np.asarray(data, np.uint8), b"filenames": [b"a.png"]}
    batch.update({key.encode(): value for key, value in labels.items()})
    return pickle.dumps(batch, protocol=2)


def tar_gz(folder, members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo(folder)
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_cifar10(mirror, monkeypatch, rng):
    batches = [rng.integers(0, 256, (2, 3072), dtype=np.uint8) for _ in range(6)]
    labels = [[i, (i + 3) % 10] for i in range(6)]
    members = {f"data_batch_{i + 1}": cifar_batch(batches[i], labels=labels[i]) for i in range(5)}
    members["test_batch"] = cifar_batch(batches[5], labels=labels[5])
    members["batches.meta"] = pickle.dumps({b"label_names": [b"airplane"]}, protocol=2)
    publish(mirror, monkeypatch, "cifar-10-python.tar.gz", tar_gz("cifar-10-batches-py", members))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert y_train.shape == (10, 1) and y_test.shape == (2, 1)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    # pixel (row r, col c, channel k) of image n is data[n, k*1024 + r*32 + c]
    assert x_train[3, 5, 7, 2] == batches[1][1, 2 * 1024 + 5 * 32 + 7]
    assert x_test[0, 31, 0, 0] == batches[5][0, 31 * 32]
    np.testing.assert_array_equal(y_train[:, 0], sum(labels[:5], []))
    np.testing.assert_array_equal(y_test[:, 0], labels[5])
    cifar10.load_data()
    assert mirror.count("cifar-10-python.tar.gz") == 1


def test_cifar100_label_modes(mirror, monkeypatch, rng):
    train, test = rng.integers(0, 256, (3, 3072), dtype=np.uint8), rng.integers(0, 256, (1, 3072), dtype=np.uint8)
    members = {
        "train": cifar_batch(train, fine_labels=[19, 29, 0], coarse_labels=[11, 15, 4]),
        "test": cifar_batch(test, fine_labels=[49], coarse_labels=[10]),
    }
    publish(mirror, monkeypatch, "cifar-100-python.tar.gz", tar_gz("cifar-100-python", members))
    (x_train, y_fine), (x_test, y_test_fine) = cifar100.load_data()
    (_, y_coarse), (_, y_test_coarse) = cifar100.load_data(label_mode="coarse")
    assert x_train.shape == (3, 32, 32, 3) and x_test.shape == (1, 32, 32, 3)
    np.testing.assert_array_equal(x_train[1].transpose(2, 0, 1).reshape(-1), train[1])
    assert y_fine.tolist() == [[19], [29], [0]] and y_coarse.tolist() == [[11], [15], [4]]
    assert y_test_fine.tolist() == [[49]] and y_test_coarse.tolist() == [[10]]
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo should-never-run",))


def test_cifar_batch_with_code_is_refused(mirror, monkeypatch, rng):
    evil = pickle.dumps({b"data": _Exploit(), b"fine_labels": [1]}, protocol=2)
    members = {"train": evil, "test": evil}
    publish(mirror, monkeypatch, "cifar-100-python.tar.gz", tar_gz("cifar-100-python", members))
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load 'posix.system'|Refusing to load 'nt.system'"):
        cifar100.load_data()


def test_cifar_malicious_archive_writes_nothing_outside(mirror, monkeypatch, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../../escaped.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    publish(mirror, monkeypatch, "cifar-10-python.tar.gz", buffer.getvalue())
    before = set(files_under(tmp_path))
    with pytest.raises(ValueError, match="Refusing to extract"):
        cifar10.load_data()
    assert set(files_under(tmp_path)) - before == {os.path.join("keras_home", "datasets", "cifar-10-batches-py.tar.gz")}


# ----------------------------------------------------------------------------------- imdb/reuters
IMDB_TRAIN = [[1, 2, 3, 4], [5, 1], [2, 6, 7]]
IMDB_TRAIN_LABELS = [1, 0, 1]
IMDB_TEST = [[3, 3, 8], [1]]
IMDB_TEST_LABELS = [0, 1]


@pytest.fixture
def imdb_server(mirror, monkeypatch):
    data = npz_bytes(
        x_train=object_array(IMDB_TRAIN),
        y_train=np.array(IMDB_TRAIN_LABELS),
        x_test=object_array(IMDB_TEST),
        y_test=np.array(IMDB_TEST_LABELS),
    )
    publish(mirror, monkeypatch, "imdb.npz", data)
    return mirror


def permutations(seed, *sizes):
    """The shuffles tf.keras applies: one RandomState, train indices first, then test."""
    rng = np.random.RandomState(seed)
    out = []
    for size in sizes:
        indices = np.arange(size)
        rng.shuffle(indices)
        out.append(indices.tolist())
    return out


# Per original sample, the sequence each argument set must give (computed by hand from the rules:
# prepend start_char, add index_from, keep len < maxlen, then w -> oov_char unless skip_top <= w < num_words).
IMDB_CASES = {
    # defaults: num_words=None means max index (11) -> 11 itself becomes oov (tf.keras's rule)
    "defaults": ({}, [[1, 4, 5, 6, 7], [1, 8, 4], [1, 5, 9, 10]], [[1, 6, 6, 2], [1, 4]]),
    "num_words": ({"num_words": 7}, [[1, 4, 5, 6, 2], [1, 2, 4], [1, 5, 2, 2]], [[1, 6, 6, 2], [1, 4]]),
    "skip_top": ({"num_words": 7, "skip_top": 5}, [[2, 2, 5, 6, 2], [2, 2, 2], [2, 5, 2, 2]], [[2, 6, 6, 2], [2, 2]]),
    "oov_none": ({"num_words": 6, "oov_char": None}, [[1, 4, 5], [1, 4], [1, 5]], [[1], [1, 4]]),
    "start_none": ({"start_char": None, "index_from": 0}, [[1, 2, 3, 4], [5, 1], [2, 6, 7]], [[3, 3, 2], [1]]),
    "custom": ({"start_char": 7, "oov_char": 0, "index_from": 10, "num_words": 14},
               [[7, 11, 12, 13, 0], [7, 0, 11], [7, 12, 0, 0]], [[7, 13, 13, 0], [7, 11]]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(IMDB_CASES))
@pytest.mark.parametrize("seed", [113, 7])
def test_imdb_argument_semantics(imdb_server, case, seed):
    kwargs, train_expected, test_expected = IMDB_CASES[case]
    (x_train, y_train), (x_test, y_test) = imdb.load_data(seed=seed, **kwargs)
    train_order, test_order = permutations(seed, 3, 2)
    assert x_train.dtype == object and x_train.shape == (3,)
    assert [list(x) for x in x_train] == [train_expected[i] for i in train_order]
    assert [list(x) for x in x_test] == [test_expected[i] for i in test_order]
    assert y_train.tolist() == [IMDB_TRAIN_LABELS[i] for i in train_order]
    assert y_test.tolist() == [IMDB_TEST_LABELS[i] for i in test_order]


def test_imdb_maxlen(imdb_server):
    (x_train, y_train), (x_test, y_test) = imdb.load_data(maxlen=4)
    # kept: len(with start char) < 4 -> train sample 1 ([1, 8, 4]) and test sample 1 ([1, 4]);
    # num_words=None -> max kept index 8 becomes oov.
    assert [list(x) for x in x_train] == [[1, 2, 4]] and y_train.tolist() == [0]
    assert [list(x) for x in x_test] == [[1, 4]] and y_test.tolist() == [1]
    with pytest.raises(ValueError, match="no sequence was kept"):
        imdb.load_data(maxlen=2)


def test_imdb_kwargs(imdb_server):
    with pytest.warns(UserWarning, match="nb_words"):
        (x_train, _), _ = imdb.load_data(nb_words=7, seed=0)
    assert max(max(x) for x in x_train) < 7
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        imdb.load_data(words=3)


def test_imdb_and_reuters_word_index(mirror, monkeypatch):
    index = {"the": 1, "and": 2, "caf\u00e9": 3}
    publish(mirror, monkeypatch, "imdb_word_index.json", json.dumps(index).encode())
    publish(mirror, monkeypatch, "reuters_word_index.json", json.dumps({"said": 1}).encode())
    assert imdb.get_word_index() == index
    assert reuters.get_word_index() == {"said": 1}


def test_word_index_published_md5_checked(mirror):
    mirror.add("imdb_word_index.json", b'{"the": 1}')
    with pytest.raises(ValueError, match="md5 file hash .* bfafd718b763782e994055a2d397834f"):
        imdb.get_word_index()
    assert files_under(mirror.home) == []


REUTERS_X = [[1, 2], [3, 4, 5], [6], [2, 2, 2, 2], [7, 1]]
REUTERS_Y = [3, 4, 3, 19, 1]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({}, [[1, 4, 5], [1, 6, 7, 8], [1, 9], [1, 5, 5, 5, 5], [1, 2, 4]]),  # max index 10 -> oov
        ({"num_words": 6, "skip_top": 2}, [[2, 4, 5], [2, 2, 2, 2], [2, 2], [2, 5, 5, 5, 5], [2, 2, 4]]),
        ({"oov_char": None, "num_words": 8}, [[1, 4, 5], [1, 6, 7], [1], [1, 5, 5, 5, 5], [1, 4]]),
    ],
)
def test_reuters_semantics(mirror, monkeypatch, kwargs, expected):
    publish(mirror, monkeypatch, "reuters.npz", npz_bytes(x=object_array(REUTERS_X), y=np.array(REUTERS_Y)))
    (x_train, y_train), (x_test, y_test) = reuters.load_data(**kwargs)
    (order,) = permutations(113, 5)
    # test_split=0.2: int(5 * 0.8) = 4 training samples
    assert [list(x) for x in x_train] == [expected[i] for i in order[:4]]
    assert [list(x) for x in x_test] == [expected[i] for i in order[4:]]
    assert y_train.tolist() == [REUTERS_Y[i] for i in order[:4]]
    assert y_test.tolist() == [REUTERS_Y[i] for i in order[4:]]


def test_reuters_maxlen_and_split(mirror, monkeypatch):
    publish(mirror, monkeypatch, "reuters.npz", npz_bytes(x=object_array(REUTERS_X), y=np.array(REUTERS_Y)))
    (x_train, y_train), (x_test, y_test) = reuters.load_data(maxlen=4, test_split=0.5, seed=3)
    (order,) = permutations(3, 5)
    kept = [i for i in order if len(REUTERS_X[i]) + 1 < 4]  # samples 0, 2 and 4
    assert len(x_train) == int(len(kept) * 0.5) == 1
    assert y_train.tolist() + y_test.tolist() == [REUTERS_Y[i] for i in kept]
    assert len(reuters.get_label_names()) == 46 and reuters.get_label_names()[3] == "earn"


# --------------------------------------------------------------------------------------- housing
def test_boston_housing(mirror, monkeypatch, rng):
    x = rng.normal(size=(10, 13))
    y = rng.uniform(10, 50, size=10)
    publish(mirror, monkeypatch, "boston_housing.npz", npz_bytes(x=x, y=y))
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(test_split=0.3, seed=5)
    (order,) = permutations(5, 10)
    np.testing.assert_array_equal(x_train, x[order[:7]])  # int(10 * 0.7) = 7
    np.testing.assert_array_equal(y_test, y[order[7:]])
    assert x_train.dtype == np.float64 and x_test.shape == (3, 13)
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=1.0)


def test_california_housing_versions(mirror, monkeypatch, rng):
    x = rng.normal(size=(700, 8)).astype(np.float32)
    y = rng.uniform(1e4, 5e5, size=700).astype(np.float32)
    publish(mirror, monkeypatch, "california_housing.npz", npz_bytes(x=x, y=y))
    (x_train, y_train), (x_test, y_test) = california_housing.load_data()
    assert x_train.shape == (560, 8) and x_test.shape == (140, 8) and y_train.dtype == np.float32
    (order,) = permutations(113, 700)
    np.testing.assert_array_equal(y_train, y[order[:560]])
    (xs_train, _), (xs_test, _) = california_housing.load_data(version="small", test_split=0.25, seed=1)
    (order,) = permutations(1, 600)
    np.testing.assert_array_equal(xs_train, x[:600][order[:450]])
    assert xs_test.shape == (150, 8)
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data(version="medium")
    assert mirror.count("california_housing.npz") == 1
