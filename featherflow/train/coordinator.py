"""``tf.train.Coordinator``: stop a group of threads together and re-raise the first error in the main thread.

>>> import threading
>>> import featherflow as tf
>>> coord = tf.train.Coordinator()
>>> def worker():
...     with coord.stop_on_exception():
...         raise RuntimeError("disk full")
>>> threads = [threading.Thread(target=worker)]
>>> for t in threads: t.start()
>>> try:
...     coord.join(threads)
... except RuntimeError as error:
...     print(error)
disk full
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time


class Coordinator:
    """A stop flag shared by threads, with the first exception that asked for the stop.

    Args:
        clean_stop_exception_types: exception types that stop the threads without being re-raised by ``join``
            (default: ``StopIteration``, featherflow's end-of-data signal).
    """

    def __init__(self, clean_stop_exception_types=None):
        self._clean_stop = tuple(clean_stop_exception_types if clean_stop_exception_types is not None
                                 else (StopIteration,))
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info = None
        self._registered: set = set()
        self._joined = False

    def request_stop(self, ex=None) -> None:
        """Ask every thread to stop; ``ex`` (an exception or ``sys.exc_info()``) is re-raised by ``join``."""
        with self._lock:
            if ex is not None and self._exc_info is None:
                if isinstance(ex, tuple):
                    ex = ex[1]
                if not isinstance(ex, self._clean_stop):
                    self._exc_info = ex
            self._stop_event.set()

    def clear_stop(self) -> None:
        """Reset the stop flag and the recorded exception."""
        with self._lock:
            self._joined = False
            self._exc_info = None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        """Whether a stop was requested."""
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """Within the block, an exception requests a stop (and is recorded) instead of propagating."""
        try:
            yield
        except BaseException:  # noqa: B036 - TensorFlow's contract: any error stops the group and is re-raised by join
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout=None) -> bool:
        """Block until a stop is requested (or ``timeout`` seconds pass); returns whether it was."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread) -> None:
        """Add ``thread`` to those ``join`` waits for."""
        with self._lock:
            self._registered.add(thread)

    @property
    def joined(self) -> bool:
        return self._joined

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False) -> None:
        """Wait for a stop request, then for the threads (``stop_grace_period_secs`` at most); re-raise the
        recorded exception, or raise ``RuntimeError`` for threads still alive (unless ``ignore_live_threads``)."""
        threads = set(threads or []) | self._registered
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(1.0):
            pass
        deadline = time.time() + stop_grace_period_secs
        for thread in threads:
            thread.join(max(deadline - time.time(), 0))
        self._joined = True
        alive = [t.name for t in threads if t.is_alive()]
        with self._lock:
            if self._exc_info is not None:
                raise self._exc_info
        if alive and not ignore_live_threads:
            raise RuntimeError(f"Coordinator stopped with threads still running: {' '.join(alive)}")

    def raise_requested_exception(self) -> None:
        """Re-raise the exception recorded by ``request_stop``, if any."""
        with self._lock:
            if self._exc_info is not None:
                raise self._exc_info
