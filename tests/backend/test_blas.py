"""BLAS thread control (featherflow/backend/blas.py): the policy inside fit/evaluate/predict, restoring the
user's count, no effect outside, and tf.config.threading."""

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras
from featherflow.backend import blas
from featherflow.ops import conv_utils

pytestmark = pytest.mark.skipif(not blas.available(), reason="NumPy is not on OpenBLAS here")


@pytest.fixture
def two_threads():
    """The default policy on two threads (tests/conftest.py pins the suite to one): the size rule alone, the
    load adaptation is tested on its own below (the machine may be busy)."""
    if blas.initial_threads() < 2:
        pytest.skip("OpenBLAS started with one thread here")
    saved_user, saved_deterministic = blas._state["user"], blas._state["deterministic"]
    blas.set_load_adaptive(False)
    blas.set_deterministic(False)
    blas.set_user_threads(None)
    blas.set_num_threads(2)
    yield
    blas.set_deterministic(saved_deterministic)
    blas.set_load_adaptive(True)
    blas.set_user_threads(saved_user)


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


def test_outside_managed_products_pick_their_count_too(two_threads):
    # eager code and custom training loops (tf.function steps) follow the same size rule as fit
    blas.use_threads_for(10)
    assert blas.get_num_threads() == 1
    blas.use_threads_for(blas.DEFAULT_THRESHOLD)
    assert blas.get_num_threads() == 2
    rng = np.random.default_rng(0)
    ff.matmul(rng.random((32, 16), dtype=np.float32), rng.random((16, 8), dtype=np.float32))
    assert blas.get_num_threads() == 1  # tf.matmul picks the count of its size
    ff.matmul(rng.random((64, 256), dtype=np.float32), rng.random((256, 256), dtype=np.float32))
    assert blas.get_num_threads() == 2


def test_large_products_use_every_core_on_any_machine(two_threads, monkeypatch):
    # issue 22: no single-thread pin on small machines any more; the count follows OpenBLAS's (here 2)
    for cores in (1, 2, 8):
        monkeypatch.setattr(blas.os, "cpu_count", lambda cores=cores: cores)
        with blas.managed():
            blas.use_threads_for(10**9)
            assert blas.get_num_threads() == 2
            assert blas.parallel_workers(4) == 2
        assert blas.get_num_threads() == 2


def test_the_threshold_is_the_measured_one_and_real_products_run_with_the_count_set(two_threads):
    assert blas.DEFAULT_THRESHOLD == 524_288  # the table in featherflow/backend/blas.py
    rng = np.random.default_rng(0)
    small = rng.random((32, 128), dtype=np.float32), rng.random((128, 10), dtype=np.float32)
    large = rng.random((64, 256), dtype=np.float32), rng.random((256, 256), dtype=np.float32)
    seen = []
    with blas.managed():
        for a, b in (small, large, small):
            blas.use_threads_for(a.shape[0] * a.shape[1] * b.shape[1])
            product = a @ b  # a real OpenBLAS call with the count the getter reports
            seen.append(blas.get_num_threads())
            np.testing.assert_allclose(product, a.astype(np.float64) @ b, rtol=1e-5)
    assert seen == [1, 2, 1]


def test_the_intra_op_setting_pins_every_product_at_once(two_threads):
    ff.config.threading.set_intra_op_parallelism_threads(1)
    assert blas.get_num_threads() == 1  # outside fit too: eager code and custom loops follow the pin
    assert blas.parallel_workers(4) == 1
    with blas.managed():
        blas.use_threads_for(10**9)
        assert blas.get_num_threads() == 1
    ff.config.threading.set_intra_op_parallelism_threads(0)
    assert blas.get_num_threads() == blas.initial_threads()
    assert blas.parallel_workers(4) == min(4, blas.initial_threads())


@pytest.mark.parametrize("variable", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_the_environment_variables_pin_the_count(variable):
    script = ("import featherflow as ff\n"
              "from featherflow.backend import blas\n"
              "with blas.managed():\n"
              "    blas.use_threads_for(10**9)\n"
              "    print(blas.initial_threads(), blas.get_num_threads(), blas.parallel_workers(4))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    env[variable] = "1"
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1", "1"]


def test_split_batch_runs_on_the_full_count_of_threads(two_threads):
    names = set()
    lock = threading.Lock()
    out = np.zeros((8, conv_utils.PARALLEL_MIN_WORK // 8 + 1), np.float32)

    def fill(a, b):
        with lock:
            names.add(threading.current_thread().name)
        out[a:b] = np.arange(a, b, dtype=np.float32)[:, None]

    with blas.managed():
        conv_utils.split_batch(fill, 8, out.size)
    assert len(names) == min(2, conv_utils._worker_count())
    names.clear()
    ff.config.threading.set_intra_op_parallelism_threads(1)
    with blas.managed():
        conv_utils.split_batch(fill, 8, out.size)
    assert len(names) == 1
    np.testing.assert_array_equal(out[:, 0], np.arange(8))


def _seeded_fit(observed: list):
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(0)
    x = rng.random((256, 64), dtype=np.float32)
    y = rng.integers(0, 10, 256)
    model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dropout(0.2), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: observed.append(
        blas.get_num_threads()))
    model.fit(x, y, batch_size=64, epochs=3, verbose=0, callbacks=[record])
    return model.get_weights()


def test_seeded_fits_are_bit_identical_with_op_determinism(two_threads, monkeypatch):
    from featherflow.backend import devices

    monkeypatch.setitem(devices._state, "determinism", False)  # restored after the test
    ff.config.experimental.enable_op_determinism()
    assert blas._state["deterministic"]
    first_threads, second_threads = [], []
    first = _seeded_fit(first_threads)
    blas.set_num_threads(1)  # a change of OpenBLAS's count between runs (threadpoolctl, say) changes nothing
    second = _seeded_fit(second_threads)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    # the count after each batch (that of the step's last product) is the same in both runs, and the first
    # layer's 64x64x256 products (1M multiply-adds) ran on every thread OpenBLAS started with
    assert first_threads == second_threads and blas.initial_threads() in first_threads
    assert blas.get_num_threads() == 1  # the caller's count is restored after fit


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


def test_fit_predict_match_a_numpy_forward(two_threads):
    rng = np.random.default_rng(0)
    x = rng.random((64, 8), dtype=np.float32)
    y = rng.integers(0, 3, 64)
    model = keras.Sequential([keras.Input(shape=(8,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    out = model.predict(x, verbose=0)
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


def test_free_cores_counts_other_processes_only(monkeypatch):
    ticks = os.sysconf("SC_CLK_TCK")
    monkeypatch.setattr(blas.os, "cpu_count", lambda: 2)
    # 1 s on 2 cores = 2 * ticks jiffies; the machine idled half of it; this process used 0.4 CPU s
    before, after = (1000, 500, 3.0), (1000 + 2 * ticks, 500 + ticks, 3.4)
    assert blas.free_cores(before, after) == pytest.approx(1.4)
    assert blas.free_cores(before, (1000 + 2 * ticks, 500, 5.0)) == pytest.approx(2.0)  # all busy, all ours
    assert blas.free_cores(before, before) is None and blas.free_cores(None, after) is None


def test_the_count_drops_to_one_thread_while_other_processes_take_the_cores(two_threads, monkeypatch):
    cores = os.cpu_count() or 1
    if cores < 2:
        pytest.skip("one core: nothing to adapt")
    monkeypatch.setitem(blas._state, "env_pin", False)
    blas.set_load_adaptive(True)
    busy = [subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 20\nwhile time.time() < end: pass"])
            for _ in range(cores)]
    try:
        with blas.managed():
            blas.use_threads_for(10**9)  # starts the measurement window
            time.sleep(blas.LOAD_WINDOW_S + 0.6)
            blas.use_threads_for(10**9)
            assert blas._state["free_cores"] < 1.0
            assert blas.get_num_threads() == 1
            assert blas.parallel_workers(4) == 1
    finally:
        for process in busy:
            process.kill()
            process.wait()
    # pinned counts do not adapt: the intra-op setting wins over the load
    ff.config.threading.set_intra_op_parallelism_threads(2)
    with blas.managed():
        blas.use_threads_for(10**9)
        assert blas.get_num_threads() == 2


_SPIN_SCRIPT = """
import os, sys, threading
import numpy as np
if sys.argv[1] == "thread":
    threading.Thread(target=threading.Event().wait, daemon=True).start()  # another Python thread exists
from featherflow.backend import blas
blas.available()
a = np.random.default_rng(0).random((600, 600), dtype=np.float32)
blas.set_num_threads(1)
one = a @ a
blas.set_num_threads(2)
two = a @ a  # OpenBLAS's workers started again after the shutdown (with its new setting)
print(blas._state["spin"], os.environ.get("OPENBLAS_THREAD_TIMEOUT"), float(np.abs(one - two).max() / np.abs(one).max()))
"""


@pytest.mark.skipif(not blas.available(), reason="NumPy is not linked to OpenBLAS here: nothing to set")
@pytest.mark.parametrize("case", ["default", "user", "opt-out", "thread"])
def test_openblas_idle_workers_spin_briefly_unless_the_user_chose(case):
    """OpenBLAS's idle workers spin ~0.1 s after every threaded product by default; featherflow sets its
    documented OPENBLAS_THREAD_TIMEOUT to 2**18 cycles when it finds OpenBLAS, unless the user set it, opted out
    (FEATHERFLOW_BLAS_SPIN=default) or another Python thread could be inside OpenBLAS. Products stay correct
    after OpenBLAS's workers were stopped and started again."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", "FEATHERFLOW_BLAS_SPIN")}
    if case == "user":
        env["OPENBLAS_THREAD_TIMEOUT"] = "24"
    if case == "opt-out":
        env["FEATHERFLOW_BLAS_SPIN"] = "default"
    out = subprocess.run([sys.executable, "-c", _SPIN_SCRIPT, case], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    spin, variable, difference = out.stdout.split()
    expected = {"default": ("18", "18"), "user": ("None", "24"), "opt-out": ("None", "None"),
                "thread": ("None", "None")}[case]
    assert (spin, variable) == expected
    assert float(difference) < 1e-5
