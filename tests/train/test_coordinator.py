"""tf.train.Coordinator with real threads."""

import threading

import pytest

import featherflow as tf


def test_threads_stop_together_and_the_error_is_reraised():
    coord = tf.train.Coordinator()
    progress = []

    def looper():
        while not coord.should_stop():
            coord.wait_for_stop(0.01)
        progress.append("stopped")

    def failer():
        with coord.stop_on_exception():
            raise ValueError("bad batch")

    threads = [threading.Thread(target=looper) for _ in range(2)] + [threading.Thread(target=failer)]
    for thread in threads:
        thread.start()
    with pytest.raises(ValueError, match="bad batch"):
        coord.join(threads, stop_grace_period_secs=5)
    assert progress == ["stopped", "stopped"] and coord.joined and coord.should_stop()
    coord.clear_stop()
    assert not coord.should_stop()
    coord.raise_requested_exception()  # cleared: nothing to raise


def test_clean_stop_exceptions_and_registered_threads():
    coord = tf.train.Coordinator()

    def ends_data():
        with coord.stop_on_exception():
            raise StopIteration

    thread = threading.Thread(target=ends_data)
    coord.register_thread(thread)
    thread.start()
    coord.join()  # StopIteration is a clean stop: nothing re-raised
    assert coord.should_stop()
    hung = threading.Event()
    stuck = threading.Thread(target=hung.wait, daemon=True)
    stuck.start()
    coord.request_stop()
    with pytest.raises(RuntimeError, match="still running"):
        coord.join([stuck], stop_grace_period_secs=0.05)
    coord.join([stuck], stop_grace_period_secs=0.01, ignore_live_threads=True)
    hung.set()
    stuck.join()
