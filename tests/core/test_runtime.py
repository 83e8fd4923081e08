"""The runtime state (recording tapes, the layer call context, model call depth) is per thread.

Each test runs two threads that use featherflow at the same time, with the interpreter switching threads
every few microseconds, and checks that neither sees the other's state: before ``core/runtime.py`` this state
was process-global, and a tape loop beside a metric update lost gradients.
"""

import sys
import threading

import numpy as np
import pytest

import featherflow as ff
from featherflow import keras
from featherflow.core import runtime


@pytest.fixture
def fast_thread_switching():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter allows: races show up at once
    yield
    sys.setswitchinterval(previous)


def _run_together(*targets):
    """Run each ``target()`` in its own thread; re-raise the first exception one of them raised."""
    errors = []

    def wrap(target):
        def run():
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread below
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_tape_loop_beside_metric_updates_gets_every_gradient(fast_thread_switching):
    x = ff.Variable(np.array([1.0, 2.0, 3.0], dtype="float32"))
    expected = 2.0 * x.numpy() + 1.0  # d/dx sum(x^2 + x)
    done = threading.Event()
    wrong = []

    def tape_loop():
        try:
            for _ in range(3000):
                with ff.GradientTape() as tape:
                    y = ff.reduce_sum(x * x + x)
                grad = tape.gradient(y, x)
                if grad is None or not np.array_equal(grad.numpy(), expected):
                    wrong.append(grad)
        finally:
            done.set()

    def metric_loop():
        # A metric function without a NumPy form: the metric pauses the tapes while it updates.
        metric = keras.metrics.MeanMetricWrapper(lambda y_true, y_pred: ff.abs(y_true - y_pred))
        while not done.is_set():
            metric.update_state(np.ones((4, 1), "float32"), np.zeros((4, 1), "float32"))
        assert float(metric.result()) == 1.0

    _run_together(tape_loop, metric_loop)
    assert wrong == []
    assert runtime.active_tapes() == []
    assert not ff.core.is_recording()


def test_a_tape_records_only_its_own_thread(fast_thread_switching):
    x = ff.Variable(np.float32(3.0))
    seen_recording = []
    started, release = threading.Event(), threading.Event()

    def other_thread():
        started.wait()
        seen_recording.append(ff.core.is_recording())
        _ = x * x  # not recorded: the tape belongs to the main thread
        release.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with ff.GradientTape() as tape:
        y = x * 2.0
        started.set()
        release.wait()
    worker.join()
    assert seen_recording == [False]
    assert len(tape._nodes) == 1  # x * 2.0 only
    assert float(tape.gradient(y, x)) == 2.0


class _SlowIdentity(keras.layers.Layer):
    """Spends time inside ``call`` so the other thread runs while the training flag is set."""

    def call(self, inputs, training=None):
        out = inputs
        for _ in range(20):
            out = out + 0.0
        return out


def test_training_flag_of_one_thread_does_not_reach_another(fast_thread_switching):
    keras.utils.set_random_seed(0)
    training_model = keras.Sequential([keras.Input(shape=(4,)), _SlowIdentity(), keras.layers.Dense(2)])
    dropout = keras.layers.Dropout(0.5)
    data = np.ones((8, 16), "float32")
    done = threading.Event()
    changed = []

    def training_calls():
        try:
            for _ in range(300):
                training_model(np.ones((2, 4), "float32"), training=True)
        finally:
            done.set()

    def inference_calls():
        # Dropout called without `training` takes the call context's flag: None here, so no dropout.
        while not done.is_set():
            out = dropout(data).numpy()
            if not np.array_equal(out, data):
                changed.append(out)

    _run_together(training_calls, inference_calls)
    assert changed == []
    assert runtime.state.training is None


def test_shape_inference_flag_of_one_thread_does_not_reach_another(fast_thread_switching):
    # BatchNormalization skips its moving-statistics update while shapes are being inferred (dummy data).
    norm = keras.layers.BatchNormalization(momentum=0.0)
    data = np.full((4, 3), 5.0, "float32")
    norm(data, training=True)
    done = threading.Event()

    def infer_shapes():
        try:
            for _ in range(300):
                keras.Sequential([keras.Input(shape=(3,)), keras.layers.BatchNormalization(), keras.layers.Dense(1)])
        finally:
            done.set()

    skipped = []

    def train_norm():
        while not done.is_set():
            norm.moving_mean.assign(np.zeros(3, "float32"))
            norm(data, training=True)  # momentum 0: the moving mean becomes the batch mean, 5
            if not np.array_equal(norm.moving_mean.numpy(), np.full(3, 5.0, "float32")):
                skipped.append(norm.moving_mean.numpy())

    _run_together(infer_shapes, train_norm)
    assert skipped == []
    assert runtime.state.inferring_shapes is False
