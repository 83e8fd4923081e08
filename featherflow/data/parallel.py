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


def background_iterator(iterator, buffer_size: int, name: str = "featherflow-prefetch", handback=None):
    """The items of ``iterator``, produced ahead by a daemon thread into a queue of ``buffer_size``.

    ``handback()`` (checked before each item is taken) returning True asks the thread to stop pulling from
    ``iterator``: the items already produced are yielded and the generator returns, leaving ``iterator``
    to the caller at the next item.
    """
    buffer: queue.Queue = queue.Queue(maxsize=buffer_size)
    stop = threading.Event()  # the consumer is gone: drop everything
    back = threading.Event()  # the consumer takes the iterator back: produce nothing more

    def put(item) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        while not back.is_set():
            try:
                item = next(iterator)
            except StopIteration:
                break
            except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
                put(_Failure(error))
                return
            if not put(item):
                return
        put(_END)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            if handback is not None and not back.is_set() and handback():
                back.set()
            item = buffer.get()
            if item is _END:
                thread.join()
                return
            if type(item) is _Failure:
                raise item.error
            yield item
    finally:
        stop.set()


def inline_iterator(iterator, fn=None, handback=None):
    """The items of ``iterator`` (``fn`` applied) produced on request; stops when ``handback()`` is True."""
    while handback is None or not handback():
        try:
            item = next(iterator)
        except StopIteration:
            return
        yield item if fn is None else fn(item)


PROBE_STEPS = 24  # steps each strategy runs at least while autotuning; the first 4 of each are not timed
PROBE_SECONDS = 0.05  # ... and for at least this long (steps of a few hundred microseconds vary with the load)
MARGIN = 0.9  # a later (threaded) way must take at most this fraction of the first way's step time
REPROBE_EVERY = 4  # iterations (epochs) that reuse a choice before it is measured again


class Autotuner:
    """``AUTOTUNE``'s choice among ways to run one dataset's work (on request, in threads), measured on the
    consumer and remembered across the dataset's iterations (``iterate``)."""

    def __init__(self):
        self.choice = None
        self.iterations = 0

    def iterate(self, iterator, strategies: list, probe: int = PROBE_STEPS):
        """The items of ``iterator`` through the fastest of ``strategies`` for this consumer.

        Each strategy is ``make(iterator, handback) -> generator`` (e.g. produce on request, or in a background
        thread). Each runs in turn for ``probe`` steps and ``PROBE_SECONDS``, timed from one request of the
        consumer to the next (its work on an item plus the wait for the next one); a strategy already 1.5 times
        slower than the best so far stops early. When the first way's wait for an item is under a tenth of its
        step, the others are not probed: they could at best hide that wait, less than the margin below. The rest of the iteration uses the first strategy unless a
        later one's median step is shorter by 10% (threads that only break even are not worth their risk) in
        two rounds of probes: a later way that wins the first round is probed again after the first way once
        more, so a burst of load on a shared machine during one probe does not choose threads that then cost
        (on 2 busy cores, a background thread holding the GIL while descheduled stalls the consumer). The
        next ``REPROBE_EVERY - 1`` iterations reuse the choice. Items keep their order.
        """
        self.iterations += 1
        if self.choice is not None and (self.iterations - 1) % REPROBE_EVERY:
            return strategies[self.choice](iterator, None)
        return self._probe(iterator, strategies, probe)

    @staticmethod
    def _timed(make, iterator, probe, best, medians, waits=None):
        """The items of one probe of ``make``; appends its median step to ``medians`` (None when the input ended
        first) and, given ``waits``, the median wait for an item (from the consumer's request to the item)."""
        import statistics
        import time

        clock = time.perf_counter
        count = [0]
        steps, waited = [], []
        previous = requested = None
        stopped = [False]  # this probe asked the strategy to stop (else the input ended)
        start = clock()

        def enough() -> bool:
            if not stopped[0]:
                stopped[0] = (count[0] >= probe and clock() - start >= PROBE_SECONDS) or (
                    best is not None and len(steps) >= 8 and statistics.median(steps) > 1.5 * best)
            return stopped[0]

        for item in make(iterator, enough):
            count[0] += 1
            now = clock()  # one step: the consumer's work on the previous item and the wait for this one
            if previous is not None and count[0] > 4 and not stopped[0]:  # items drained after a stop
                steps.append(now - previous)  # come at once: they do not time this way
                waited.append(now - requested)
            previous = now
            yield item
            requested = clock()
        medians.append((statistics.median(steps) if steps else 0.0) if stopped[0] else None)
        if waits is not None:
            waits.append(statistics.median(waited) if waited else 0.0)

    def _probe(self, iterator, strategies, probe):
        medians: list = []
        waits: list = []
        for index, make in enumerate(strategies):
            best = min([m for m in medians if m is not None], default=None)
            yield from self._timed(make, iterator, probe, best, medians, waits if index == 0 else None)
            if medians[-1] is None:  # the input ended while probing
                return
            if index == 0 and waits[0] < (1.0 - MARGIN) * medians[0]:
                # Producing an item takes under a tenth of the consumer's step: another way (threads) could
                # at best hide that time, never the 10% it must win by, so it is not tried (a thread's probe
                # costs its hand-offs, and on a busy machine it can win a probe by luck and then cost).
                self.choice = 0
                yield from strategies[0](iterator, None)
                return
        choice = min(range(len(medians)), key=lambda i: (medians[i] / (1.0 if i == 0 else MARGIN), i))
        if choice != 0:  # confirm: the first way again, then the winner, both timed now
            again: list = []
            for make in (strategies[0], strategies[choice]):
                yield from self._timed(make, iterator, probe, None, again)
                if again[-1] is None:
                    return
            if not again[1] < again[0] * MARGIN:
                choice = 0
        self.choice = choice
        yield from strategies[choice](iterator, None)


class PrefetchDataset(UnaryDataset):
    """``Dataset.prefetch``: the input produced ahead by a background thread."""

    def _finite_proof(self):  # the input's elements, unchanged
        return self._input._finite_proof()

    def __init__(self, input_dataset, buffer_size):
        buffer_size = _check_count(buffer_size, "buffer_size")
        self._input = input_dataset
        self._autotune = buffer_size == AUTOTUNE
        self._buffer_size = AUTOTUNE_BUFFER if self._autotune else buffer_size
        self._tuner = Autotuner()

    def _elements(self):
        if self._buffer_size == 0:
            return self._input._elements()
        if not self._autotune:
            return background_iterator(self._input._elements(), self._buffer_size)
        buffer = self._buffer_size
        return self._tuner.iterate(self._input._elements(), [
            lambda it, back: inline_iterator(it, handback=back),
            lambda it, back: background_iterator(it, buffer, handback=back)])


def parallel_map(iterator, fn, workers: int, ordered: bool = True, handback=None):
    """``fn`` over the items of ``iterator`` on ``workers`` threads, ``2 * workers`` items in flight; the
    input order is kept when ``ordered`` (else results come as they finish). ``handback()`` returning True
    stops taking items (those in flight are still yielded)."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="featherflow-map")
    in_flight = 2 * workers
    pending: collections.deque = collections.deque()
    unordered: set = set()
    try:
        while handback is None or not handback():
            try:
                item = next(iterator)
            except StopIteration:
                break
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
