"""Threads in the pipeline: ``prefetch`` (a background producer filling a bounded buffer), parallel ``map``
and read-ahead for parallel ``interleave``.

NumPy releases the GIL in its array work and matrix products, so a producer thread preparing the next
batches overlaps the training step that consumes the current one. Errors raised in a thread reach the
consumer at the element where they happened; an abandoned iterator stops its threads.

>>> import featherflow as tf
>>> [int(v) for v in tf.data.Dataset.range(5).map(lambda x: x * x, num_parallel_calls=3).prefetch(2)]
[0, 1, 4, 9, 16]
"""

from __future__ import annotations

import collections
import os
import queue
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from featherflow.data.dataset import AUTOTUNE, UnaryDataset, _check_count

_END = object()
AUTOTUNE_BUFFER = 2  # batches kept ready by prefetch(AUTOTUNE): enough to hide a step's jitter, little memory


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException):
        self.error = error


def worker_count(requested: int) -> int:
    """Threads for ``num_parallel_calls`` (``AUTOTUNE``: one per CPU core)."""
    if requested == AUTOTUNE:
        return max(os.cpu_count() or 1, 1)
    return requested


def background_iterator(iterator, buffer_size: int, name: str = "featherflow-prefetch"):
    """The items of ``iterator``, produced ahead by a daemon thread into a queue of ``buffer_size``."""
    buffer: queue.Queue = queue.Queue(maxsize=buffer_size)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in iterator:
                if not put(item):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            put(_Failure(error))
            return
        put(_END)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if type(item) is _Failure:
                raise item.error
            yield item
    finally:
        stop.set()
        close = getattr(iterator, "close", None)
        if close is not None and not thread.is_alive():
            close()


class PrefetchDataset(UnaryDataset):
    """``Dataset.prefetch``: the input produced ahead by a background thread."""

    def __init__(self, input_dataset, buffer_size):
        buffer_size = _check_count(buffer_size, "buffer_size")
        self._input = input_dataset
        self._buffer_size = AUTOTUNE_BUFFER if buffer_size == AUTOTUNE else buffer_size

    def _elements(self):
        if self._buffer_size == 0:
            return self._input._elements()
        return background_iterator(self._input._elements(), self._buffer_size)


def parallel_map(iterator, fn, workers: int, ordered: bool = True):
    """``fn`` over the items of ``iterator`` on ``workers`` threads, ``2 * workers`` items in flight; the
    input order is kept when ``ordered`` (else results come as they finish)."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="featherflow-map")
    in_flight = 2 * workers
    pending: collections.deque = collections.deque()
    unordered: set = set()
    try:
        for item in iterator:
            if ordered:
                pending.append(pool.submit(fn, item))
                if len(pending) >= in_flight:
                    yield pending.popleft().result()
            else:
                unordered.add(pool.submit(fn, item))
                if len(unordered) >= in_flight:
                    done, unordered = wait(unordered, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield future.result()
        while pending:
            yield pending.popleft().result()
        while unordered:
            done, unordered = wait(unordered, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        for future in list(pending) + list(unordered):
            future.cancel()
        pool.shutdown(wait=False)
