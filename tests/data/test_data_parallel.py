"""tf.data threads: prefetch is a real background buffer, parallel map runs concurrently and keeps the order,
errors reach the consumer, abandoned iterators stop their threads."""

import threading
import time

import pytest
from dataset_helpers import values

import featherflow as tf

D = tf.data.Dataset


def _threads(prefix: str) -> list:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def _wait_until(condition, timeout=5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_prefetch_fills_its_buffer_in_a_background_thread():
    produced = []

    def gen():
        for i in range(10):
            produced.append((i, threading.current_thread().name))
            yield i

    ds = D.from_generator(gen, output_signature=tf.TensorSpec([], tf.int64)).prefetch(3)
    it = iter(ds)
    assert int(next(it)) == 0
    # Without being asked, the producer runs ahead: the element taken plus a full buffer of 3 (and one waiting).
    assert _wait_until(lambda: len(produced) >= 4)
    time.sleep(0.05)
    assert len(produced) <= 5
    assert all(name.startswith("featherflow-prefetch") for _, name in produced)
    assert [int(v) for v in it] == list(range(1, 10))


def test_prefetch_passes_errors_at_their_position_and_autotune_works():
    def gen():
        yield 1
        yield 2
        raise RuntimeError("broken source")

    it = iter(D.from_generator(gen, output_signature=tf.TensorSpec([], tf.int32)).prefetch(tf.data.AUTOTUNE))
    assert [int(next(it)), int(next(it))] == [1, 2]
    with pytest.raises(RuntimeError, match="broken source"):
        next(it)
    assert values(D.range(5).prefetch(0)) == [0, 1, 2, 3, 4]


def test_abandoned_prefetch_iterator_stops_its_thread():
    before = len(_threads("featherflow-prefetch"))
    it = iter(D.range(10**9).prefetch(2))
    next(it)
    assert len(_threads("featherflow-prefetch")) == before + 1
    del it
    assert _wait_until(lambda: len(_threads("featherflow-prefetch")) == before)


def _sleeping(seconds: float, running=None):
    """A map function whose work sleeps in ``tf.numpy_function`` (runs for every element, as TensorFlow runs
    it; a plain ``time.sleep`` in a map function runs only while the function is traced). ``running`` records
    how many calls are in their sleep at once."""
    lock = threading.Lock()
    now = [0]

    def work(x):
        with lock:
            now[0] += 1
            if running is not None:
                running.append(now[0])
        time.sleep(seconds)  # releases the GIL, as file reads and image decoding do
        with lock:
            now[0] -= 1
        return x

    return lambda x: tf.numpy_function(work, [x], tf.int64)


def test_parallel_map_runs_concurrently_and_keeps_the_order():
    running = []
    sleep = _sleeping(0.02, running)
    out = values(D.range(16).map(lambda x: sleep(x) * x, num_parallel_calls=8))
    assert out == [i * i for i in range(16)]
    assert max(running) > 1  # several threads were in their sleep at the same time
    unordered = values(D.range(16).map(lambda x: sleep(x) * x, num_parallel_calls=4, deterministic=False))
    assert sorted(unordered) == [i * i for i in range(16)]
    assert values(D.range(5).map(lambda x: x + 1, num_parallel_calls=tf.data.AUTOTUNE)) == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="`num_parallel_calls` must be a positive integer"):
        D.range(3).map(lambda x: x, num_parallel_calls=0)


def test_parallel_map_error_is_raised_to_the_consumer():
    def fail_on_three(x):
        if int(x) == 3:
            raise ValueError("bad element 3")
        return x

    with pytest.raises(ValueError, match="bad element 3"):
        list(D.range(10).map(fail_on_three, num_parallel_calls=2))


def test_unordered_map_from_options():
    options = tf.data.Options()
    options.deterministic = False
    ds = D.range(8).with_options(options).map(lambda x: x * 2, num_parallel_calls=2)
    assert sorted(values(ds)) == [0, 2, 4, 6, 8, 10, 12, 14]


def test_autotune_moves_slow_gil_free_work_to_threads_and_keeps_the_order():
    slow = _sleeping(0.01)

    def consume(dataset, thread_prefix):
        before = len(_threads(thread_prefix))
        seen, used_threads = [], False
        for value in dataset:
            seen.append(int(value))
            time.sleep(0.01)  # the consumer's step: ~10 ms with the work in threads, ~20 ms without
            if len(seen) == 110:  # past the two rounds of two probes of 24 steps
                used_threads = len(_threads(thread_prefix)) > before
        return seen, used_threads

    prefetched = D.range(120).map(slow).prefetch(tf.data.AUTOTUNE)
    seen, used = consume(prefetched, "featherflow-prefetch")
    assert seen == list(range(120)) and used
    before = len(_threads("featherflow-prefetch"))
    again = iter(prefetched.take(5))  # the next pass reuses the choice: a thread from its first element
    assert [int(next(again)) for _ in range(3)] == [0, 1, 2] and len(_threads("featherflow-prefetch")) > before
    seen, used = consume(D.range(120).map(slow, num_parallel_calls=tf.data.AUTOTUNE), "featherflow-map")
    assert seen == list(range(120)) and used


def test_autotune_switching_back_to_the_caller_keeps_every_element():
    # a cheap producer: whichever way wins, the elements come once each, in order
    assert values(D.range(300).map(lambda x: x + 1).prefetch(tf.data.AUTOTUNE)) == list(range(1, 301))
    assert values(D.range(300).map(lambda x: x * 2, num_parallel_calls=tf.data.AUTOTUNE)) == list(range(0, 600, 2))
    assert values(D.range(10).prefetch(tf.data.AUTOTUNE)) == list(range(10))  # shorter than the probe


def test_autotuner_keeps_every_item_when_it_stops_a_slow_probe_early():
    from featherflow.data.parallel import Autotuner

    def on_request(iterator, handback):  # the faster way: 1 ms an item
        while handback is None or not handback():
            item = next(iterator, None)
            if item is None:
                return
            time.sleep(0.001)
            yield item

    def slow_with_a_buffer(iterator, handback):  # 5 ms an item, and 10 items already made when told to stop
        while True:
            if handback is not None and handback():
                for _ in range(10):
                    item = next(iterator, None)
                    if item is None:
                        return
                    yield item  # drained at once: faster than either way, they must not end the pass
                return
            item = next(iterator, None)
            if item is None:
                return
            time.sleep(0.005)
            yield item

    tuner = Autotuner()
    out = list(tuner.iterate(iter(range(100)), [on_request, slow_with_a_buffer]))
    assert out == list(range(100)) and tuner.choice == 0
    assert list(tuner.iterate(iter(range(10)), [on_request, slow_with_a_buffer])) == list(range(10))


def test_autotuner_keeps_the_first_way_when_a_later_one_wins_only_one_round():
    from featherflow.data.parallel import Autotuner

    def paced(seconds_per_round):
        rounds = iter(seconds_per_round)

        def make(iterator, handback):
            seconds = next(rounds, seconds_per_round[-1])
            while handback is None or not handback():
                item = next(iterator, None)
                if item is None:
                    return
                time.sleep(seconds)
                yield item

        return make

    lucky = Autotuner()  # the later way looked faster once (a burst of load during the first way's probe)
    out = list(lucky.iterate(iter(range(200)), [paced([0.003]), paced([0.001, 0.006])]))
    assert out == list(range(200)) and lucky.choice == 0
    steady = Autotuner()  # faster in both rounds: chosen
    out = list(steady.iterate(iter(range(200)), [paced([0.003]), paced([0.001])]))
    assert out == list(range(200)) and steady.choice == 1


def test_autotuner_does_not_try_threads_for_a_producer_far_cheaper_than_the_consumer():
    from featherflow.data.parallel import Autotuner

    def ways(producer_seconds, started):
        def inline(iterator, handback):
            while handback is None or not handback():
                item = next(iterator, None)
                if item is None:
                    return
                time.sleep(producer_seconds)
                yield item

        def other(iterator, handback):
            started.append(True)
            yield from inline(iterator, handback)

        return [inline, other]

    def consume(tuner, producer_seconds, started):
        out = []
        for item in tuner.iterate(iter(range(120)), ways(producer_seconds, started)):
            time.sleep(0.003)  # the consumer's step
            out.append(item)
        return out

    cheap, started = Autotuner(), []
    assert consume(cheap, 0.0, started) == list(range(120))
    assert cheap.choice == 0 and started == []  # could hide < 10% of a step: never probed
    costly, started = Autotuner(), []
    assert consume(costly, 0.002, started) == list(range(120))
    assert started  # a producer that takes ~40% of the step: the other way is probed
