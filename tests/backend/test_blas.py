"""BLAS thread control (featherflow/backend/blas.py): the policy inside fit/evaluate/predict, restoring the
user's count, no effect outside, and tf.config.threading."""

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras
from featherflow.backend import blas
from featherflow.ops import conv_utils

pytestmark = pytest.mark.skipif(not blas.available(), reason="NumPy is not on OpenBLAS here")


@pytest.fixture
def two_threads():
    saved = blas.get_num_threads()
    blas.set_num_threads(2)
    yield
    blas.set_user_threads(None)
    blas.set_num_threads(saved)


def test_small_products_use_one_thread_inside_managed_and_the_count_is_restored(two_threads):
    ff.config.threading.set_intra_op_parallelism_threads(2)
    with blas.managed():
        blas.use_threads_for(blas.DEFAULT_THRESHOLD - 1)
        assert blas.get_num_threads() == 1
        blas.use_threads_for(blas.DEFAULT_THRESHOLD)
        assert blas.get_num_threads() == 2
        blas.use_threads_for(10)
        with blas.managed():  # nested (evaluate inside fit): the outer context restores
            assert blas.get_num_threads() == 1
        assert blas.get_num_threads() == 1
    assert blas.get_num_threads() == 2


def test_outside_managed_nothing_changes(two_threads):
    blas.use_threads_for(10)
    assert blas.get_num_threads() == 2


@pytest.mark.parametrize("cores, expected", [(2, 1), (1, 1), (8, 2)])
def test_default_full_count_is_one_thread_on_two_cores(two_threads, monkeypatch, cores, expected):
    monkeypatch.setattr(blas.os, "cpu_count", lambda: cores)
    with blas.managed():
        blas.use_threads_for(10**12)
        assert blas.get_num_threads() == expected
        assert blas.parallel_workers(4) == expected
    assert blas.get_num_threads() == 2
    assert blas.parallel_workers(4) == 4


def test_user_thread_count_is_the_full_count(two_threads):
    ff.config.threading.set_intra_op_parallelism_threads(1)
    assert ff.config.threading.get_intra_op_parallelism_threads() == 1
    with blas.managed():
        blas.use_threads_for(10**12)
        assert blas.get_num_threads() == 1
    ff.config.threading.set_intra_op_parallelism_threads(0)
    assert ff.config.threading.get_intra_op_parallelism_threads() == 0
    assert blas.get_num_threads() == 2


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        ff.config.threading.set_intra_op_parallelism_threads(bad)


def test_split_batch_gives_the_same_rows_with_any_worker_count(two_threads):
    out = np.zeros((8, conv_utils.PARALLEL_MIN_WORK // 8 + 1), np.float32)

    def fill(a, b):
        out[a:b] = np.arange(a, b, dtype=np.float32)[:, None]

    ff.config.threading.set_intra_op_parallelism_threads(2)
    with blas.managed():
        conv_utils.split_batch(fill, 8, out.size)
    np.testing.assert_array_equal(out[:, 0], np.arange(8))


def test_fit_predict_restore_the_thread_count_and_match_a_numpy_forward(two_threads):
    rng = np.random.default_rng(0)
    x = rng.random((64, 8), dtype=np.float32)
    y = rng.integers(0, 3, 64)
    model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert blas.get_num_threads() == 2
    out = model.predict(x, verbose=0)
    assert blas.get_num_threads() == 2
    kernel, bias = model.get_weights()
    z = x.astype(np.float64) @ kernel + bias
    ref = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(out, ref / ref.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(blas.flush_denormals(False) is None, reason="no MXCSR control on this platform")
def test_denormals_are_flushed_inside_managed_only():
    tiny, scale = np.float32(1e-30), np.float32(1e-9)
    assert tiny * scale != 0  # a denormal result (1e-39) outside fit
    with blas.managed():
        assert tiny * scale == 0
        assert (np.array([1e-39], np.float32) + np.float32(0)) [0] == 0  # denormal inputs read as zero
    assert tiny * scale != 0


@pytest.mark.skipif(blas.flush_denormals(False) is None, reason="no MXCSR control on this platform")
def test_a_caller_that_flushes_keeps_its_mode():
    blas.flush_denormals(True)
    try:
        with blas.managed():
            pass
        assert np.float32(1e-30) * np.float32(1e-9) == 0
    finally:
        blas.flush_denormals(False)
