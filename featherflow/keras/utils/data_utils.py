"""Background batch producers: ``OrderedEnqueuer`` (a ``Sequence``, in order, epoch after epoch),
``GeneratorEnqueuer`` (a Python generator), their base ``SequenceEnqueuer``, and ``TimedThread``.

Workers are threads (processes with ``use_multiprocessing=True``, for a picklable ``Sequence``); a bounded
queue of ``max_queue_size`` batches keeps them ahead of the consumer.

>>> import numpy as np
>>> from featherflow.keras.utils import Sequence
>>> class Squares(Sequence):
...     def __len__(self): return 3
...     def __getitem__(self, i): return np.array([i * i])
>>> enqueuer = OrderedEnqueuer(Squares())
>>> enqueuer.start(workers=2, max_queue_size=4)
>>> batches = enqueuer.get()
>>> [int(next(batches)[0]) for _ in range(4)]   # one epoch, then the next begins
[0, 1, 4, 0]
>>> enqueuer.stop()
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading

import numpy as np

_STOP = object()


class SequenceEnqueuer:
    """Base class: ``start(workers, max_queue_size)``, ``get()`` (a generator of batches), ``stop()``,
    ``is_running()``. Subclasses implement ``_run`` (fill ``self.queue``) and ``get``.

    Args:
        sequence: a ``keras.utils.Sequence``.
        use_multiprocessing: fetch items in worker processes instead of threads.
    """

    def __init__(self, sequence, use_multiprocessing=False):
        self.sequence = sequence
        self.use_multiprocessing = use_multiprocessing
        self.workers = 0
        self.executor = None
        self.queue = None
        self.run_thread = None
        self.stop_signal = None

    def is_running(self) -> bool:
        return self.stop_signal is not None and not self.stop_signal.is_set()

    def _executor(self, workers):
        pool = concurrent.futures.ProcessPoolExecutor if self.use_multiprocessing else \
            concurrent.futures.ThreadPoolExecutor
        return pool(max_workers=max(int(workers), 1))

    def start(self, workers=1, max_queue_size=10) -> None:
        """Start ``workers`` workers filling a queue of at most ``max_queue_size`` batches."""
        self.workers = workers
        self.executor = self._executor(workers)
        self.queue = queue.Queue(max(int(max_queue_size), 1))
        self.stop_signal = threading.Event()
        self.run_thread = threading.Thread(target=self._run, daemon=True)
        self.run_thread.start()

    def _put(self, item) -> bool:
        """Put ``item`` unless stopped; False once ``stop`` was called."""
        while not self.stop_signal.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def stop(self, timeout=None) -> None:
        """Stop the workers and wait up to ``timeout`` seconds for the producer thread."""
        if self.stop_signal is None:
            return
        self.stop_signal.set()
        while True:  # free a producer blocked on a full queue
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self.run_thread.join(timeout)
        self.executor.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        raise NotImplementedError

    def get(self):
        raise NotImplementedError


def _get_item(sequence, index):
    return sequence[index]


class OrderedEnqueuer(SequenceEnqueuer):
    """Batches of a ``Sequence`` in order (or shuffled per epoch with ``shuffle``), endlessly; the sequence's
    ``on_epoch_end`` runs between epochs."""

    def __init__(self, sequence, use_multiprocessing=False, shuffle=False):
        super().__init__(sequence, use_multiprocessing)
        self.shuffle = shuffle

    def _run(self) -> None:
        while not self.stop_signal.is_set():
            order = np.arange(len(self.sequence))
            if self.shuffle:
                order = np.random.permutation(order)
            futures = []
            for index in order:
                futures.append(self.executor.submit(_get_item, self.sequence, int(index)))
                if not self._put(futures[-1]):
                    return
            concurrent.futures.wait(futures)  # the epoch's batches are made before on_epoch_end changes the data
            on_epoch_end = getattr(self.sequence, "on_epoch_end", None)
            if on_epoch_end is not None:
                on_epoch_end()

    def get(self):
        """Yield the batches, in order, while running (an error in a worker is raised here)."""
        while self.is_running():
            try:
                future = self.queue.get(timeout=0.1)
            except queue.Empty:
                continue
            yield future.result()


class GeneratorEnqueuer(SequenceEnqueuer):
    """Items of a Python generator (or iterator) produced ahead by worker threads (the generator is read under
    a lock, so the items come in the generator's order); ``get`` ends when the generator does."""

    def __init__(self, generator, use_multiprocessing=False, random_seed=None):
        super().__init__(generator, use_multiprocessing=False)  # a running generator cannot move between processes
        self.random_seed = random_seed
        self._lock = threading.Lock()

    def _run(self) -> None:
        generator = iter(self.sequence)
        while not self.stop_signal.is_set():
            try:
                with self._lock:
                    item = next(generator)
            except StopIteration:
                self._put(_STOP)
                return
            except Exception as error:  # noqa: BLE001 - delivered to the consumer by get()
                self._put(error)
                return
            if not self._put(item):
                return

    def get(self):
        """Yield the generator's items; re-raise an error the generator raised."""
        while self.is_running():
            try:
                item = self.queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _STOP:
                self.stop_signal.set()
                return
            if isinstance(item, Exception):
                self.stop_signal.set()
                raise item
            yield item


class TimedThread:
    """Calls ``on_interval()`` every ``interval`` seconds in a background thread between ``start()`` and ``stop()``.

    Subclass and implement ``on_interval``; extra keyword arguments go to ``threading.Thread``.
    """

    def __init__(self, interval, **kwargs):
        self.interval = interval
        self.daemon = kwargs.pop("daemon", True)
        self.thread_kwargs = kwargs
        self.thread = None
        self.thread_stop_event = None

    def _call_on_interval(self) -> None:
        while not self.thread_stop_event.is_set():
            self.on_interval()
            self.thread_stop_event.wait(self.interval)

    def start(self) -> None:
        """Start the thread (a warning if it already runs)."""
        if self.thread is not None and self.thread.is_alive():
            import warnings

            warnings.warn("Thread is already running.", stacklevel=2)
            return
        self.thread_stop_event = threading.Event()
        self.thread = threading.Thread(target=self._call_on_interval, daemon=self.daemon, **self.thread_kwargs)
        self.thread.start()

    def stop(self) -> None:
        """Ask the thread to stop after its current call."""
        if self.thread_stop_event is not None:
            self.thread_stop_event.set()

    def is_alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def on_interval(self) -> None:
        raise NotImplementedError("Runs every x interval seconds. Needs to be implemented in subclasses of "
                                  "`TimedThread`")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
