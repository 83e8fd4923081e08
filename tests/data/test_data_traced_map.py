"""Dataset.map functions are traced and replayed as compiled programs (featherflow.data.traced): Python side
effects at trace time only, values identical to eager calls, untraceable Python still working."""

import logging
import warnings

import numpy as np
import pytest
from dataset_helpers import values

import featherflow as tf
from featherflow.data import traced as traced_module

D = tf.data.Dataset


def _iterate(ds) -> list:
    """The elements as nested lists, read by iterating (``as_numpy_iterator`` first works out the element
    spec, which runs the function on stand-in elements)."""
    return tf.nest.map_structure(lambda t: np.asarray(t).tolist(), list(ds))


def _eager_batches(dataset, fn):
    """``fn`` called eagerly on each element of ``dataset`` (a tuple unpacked), as NumPy nests."""
    out = []
    for element in dataset.as_numpy_iterator():
        args = element if isinstance(element, tuple) else (element,)
        result = fn(*[tf.constant(a) for a in args])
        out.append(tf.nest.map_structure(lambda t: np.asarray(t), result))
    return out


def test_python_side_effect_runs_at_trace_time_only():
    calls = []

    def normalise(x, y):
        calls.append(tuple(x.shape))
        return tf.cast(x, tf.float32) / 255.0, y

    x = np.arange(10 * 4, dtype="uint8").reshape(10, 4)
    ds = D.from_tensor_slices((x, np.arange(10))).batch(3).map(normalise)
    first = _iterate(ds)
    second = _iterate(ds)
    assert first == second and len(first) == 4
    assert calls == [(3, 4), (1, 4)]  # one trace per batch shape, none for the replays of the second pass


def test_traced_values_equal_the_eager_calls_bit_for_bit():
    def fn(x, y):
        return tf.cast(x, tf.float32) / 255.0 + tf.reduce_mean(tf.cast(x, tf.float32)), tf.one_hot(y, 3) * 2.0

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 7), dtype=np.uint8)
    y = rng.integers(0, 3, 50)
    base = D.from_tensor_slices((x, y)).shuffle(20, seed=3, reshuffle_each_iteration=False).batch(8)
    expected = _eager_batches(base, fn)
    for _ in range(2):  # traced, then replayed
        got = list(base.map(fn).as_numpy_iterator())
        assert len(got) == len(expected)
        for (gx, gy), (ex, ey) in zip(got, expected):
            assert gx.dtype == ex.dtype == np.float32 and gy.dtype == ey.dtype
            np.testing.assert_array_equal(gx, ex)
            np.testing.assert_array_equal(gy, ey)


def test_untraceable_python_keeps_working_silently():
    calls = []

    def reads_values(x):
        calls.append(1)
        if float(tf.reduce_sum(x)) > 10:  # a Python branch on a tensor's value: cannot be compiled
            return x * 2
        return x - 1

    ds = D.range(8).batch(2).map(reads_values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "could not compile" warning: tf.data falls back without one
        assert _iterate(ds) == [[-1, 0], [1, 2], [3, 4], [12, 14]]
        assert _iterate(ds.map(lambda v: v.numpy() + 1)) == [[0, 1], [2, 3], [4, 5], [13, 15]]
    assert len(calls) == 8  # eager from the first element on: every call ran the Python code


def test_random_ops_and_py_function_run_for_every_element():
    tf.random.set_seed(1)
    noisy = list(D.from_tensors(np.zeros(5, "float32")).repeat(4).map(
        lambda x: x + tf.random.uniform([5])).as_numpy_iterator())
    assert all(not np.array_equal(noisy[0], other) for other in noisy[1:])  # fresh draws, not a frozen trace
    seen = []

    def record(v):
        seen.append(int(v))
        return v

    ds = D.range(5).map(lambda x: tf.py_function(record, [x], tf.int64) * 10)
    assert _iterate(ds) == [0, 10, 20, 30, 40] and seen == [0, 1, 2, 3, 4]


def test_map_reads_the_current_value_of_a_variable():
    scale = tf.Variable(2.0)
    ds = D.from_tensor_slices(np.ones((4, 2), "float32")).batch(2).map(lambda x: x * scale)
    assert values(ds) == [[[2.0, 2.0], [2.0, 2.0]]] * 2
    scale.assign(3.0)
    assert values(ds) == [[[3.0, 3.0], [3.0, 3.0]]] * 2


def test_structures_and_constants_come_out_as_eager_ones():
    def fn(d):
        return {"sum": d["a"] + d["b"], "pair": (d["a"] * 2, tf.constant(7)), "name": "x"}

    ds = D.from_tensor_slices({"a": np.arange(4), "b": np.arange(4) * 10}).batch(2).map(fn)
    for _ in range(2):
        out = list(ds.as_numpy_iterator())
        assert [o["sum"].tolist() for o in out] == [[0, 11], [22, 33]]
        assert [o["pair"][0].tolist() for o in out] == [[0, 2], [4, 6]]
        assert [int(o["pair"][1]) for o in out] == [7, 7] and [o["name"] for o in out] == [b"x", b"x"]
    a, b = list(ds.as_numpy_iterator())
    assert a["pair"][1] is not b["pair"][1]  # a constant output is a new array for each element
    scalars = values(D.range(4).map(lambda x: x * 10))  # 0-d elements: NumPy scalar results become arrays
    assert scalars == [0, 10, 20, 30]


def test_changing_shapes_trace_a_few_times_then_run_eagerly(caplog):
    calls = []

    def fn(x):
        calls.append(1)
        return x + 1

    lengths = [1, 2, 3, 4, 5, 6, 7, 1, 2, 3]
    ds = D.from_generator(lambda: (np.arange(n) for n in lengths),
                          output_signature=tf.TensorSpec([None], tf.int64)).map(fn)
    with caplog.at_level(logging.WARNING, logger="featherflow"):
        out = _iterate(ds)
    assert out == [list(range(1, n + 1)) for n in lengths]
    assert "retracing" not in caplog.text  # at most MAX_TRACES traces: no retracing warning
    # the first MAX_TRACES shapes traced once each (replayed later); the others ran eagerly at every element
    assert len(calls) == traced_module.MAX_TRACES + 3


def test_parallel_map_replays_in_every_thread():
    x = np.arange(200, dtype="float32").reshape(100, 2)
    ds = D.from_tensor_slices(x).batch(4).map(lambda v: v * 2.0 + 1.0, num_parallel_calls=4)
    assert values(ds) == (x * 2.0 + 1.0).reshape(25, 4, 2).tolist()


def test_debug_mode_runs_map_functions_eagerly(monkeypatch):
    monkeypatch.setitem(traced_module._debug, "enabled", False)  # restored afterwards (the switch is one-way)
    tf.data.experimental.enable_debug_mode()
    calls = []

    def fn(x):
        calls.append(1)
        return x + 1

    ds = D.range(6).batch(2).map(fn)
    assert _iterate(ds) == [[1, 2], [3, 4], [5, 6]] and len(calls) == 3
    assert _iterate(ds) == [[1, 2], [3, 4], [5, 6]] and len(calls) == 6  # every element, every pass


def test_prefetched_map_iterated_inside_a_tf_function_does_not_wait_for_that_trace():
    import threading

    ds = D.from_tensor_slices(np.arange(12.0, dtype="float32")).batch(4).map(lambda x: x * 2.0).prefetch(2)

    @tf.function
    def total(x):
        for batch in ds:  # the prefetch thread maps while this function's trace is in progress
            x = x + tf.reduce_sum(batch)
        return x

    out = []
    worker = threading.Thread(target=lambda: out.append(float(total(tf.constant(0.0)))), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive() and out == [132.0]


def test_a_producer_never_waits_for_a_trace_that_holds_the_turn_without_tracing_yet():
    """The window between a trace taking its turn and the tracer starting: a prefetch thread that must trace
    a map then runs the element eagerly instead of waiting for the turn (the thread holding it may be waiting
    for that very element)."""
    import threading

    from featherflow.core.function import trace_turn

    ds = D.from_tensor_slices(np.arange(12.0, dtype="float32")).batch(4).map(lambda x: x * 2.0).prefetch(2)
    out = []
    ready = threading.Event()

    def other():  # another thread takes the turn and, holding it, reads the dataset
        with trace_turn() as mine:
            assert mine
            out.extend(float(b.numpy().sum()) for b in ds)
        ready.set()

    worker = threading.Thread(target=other, daemon=True)
    worker.start()
    assert ready.wait(60), "the prefetch thread waited for the trace turn held by its consumer"
    assert out == [12.0, 44.0, 76.0]


def _lecture_model():
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.Input(shape=(2, 3)), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_fit_skips_the_nan_check_only_for_batches_proven_finite():
    from featherflow.keras.models.dataset_adapter import DatasetHandler

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (10, 2, 3), dtype=np.uint8)
    y = rng.integers(0, 2, 10)
    base = D.from_tensor_slices((x, y)).shuffle(10, seed=1).batch(4)
    normalised = base.map(lambda a, b: (tf.cast(a, tf.float32) / 255.0, b)).prefetch(tf.data.AUTOTUNE)
    handler = DatasetHandler(normalised, input_dtypes=["float32"], check_values=True)
    first = [handler._proven_finite(bx) for bx, _, _ in handler.epoch_batches(0)]
    assert first == [False, True, False]  # batches of 4 and the last of 2: each shape's first ran while traced
    assert [handler._proven_finite(bx) for bx, _, _ in handler.epoch_batches(0)] == [True] * 3  # replayed
    assert np.isfinite(_lecture_model().fit(normalised, epochs=2, verbose=0).history["loss"]).all()

    x[3, 1, 2] = 0  # 0 / 0: the program divides by a zero constant, proves nothing and is checked
    nan = D.from_tensor_slices((x, y)).batch(4).map(lambda a, b: (tf.cast(a, tf.float32) / 0.0, b))
    with pytest.raises(ValueError, match=r"The data in `x` \(the x of its batches\) contains \d+ NaN or infinite "
                                         r"value\(s\) \(the first, (NaN|infinite), at index \(0, 0, 0\) of a batch\)"), \
            np.errstate(divide="ignore", invalid="ignore"):
        _lecture_model().fit(nan, epochs=1, verbose=0)

    def poison(a, b):  # a later map writing NaN into the proven batch in place: that batch is checked again
        a[0, 0, 0] = np.nan
        return a, b

    later = base.map(lambda a, b: (tf.cast(a, tf.float32) / 255.0, b)).map(
        lambda a, b: tf.numpy_function(poison, [a, b], [tf.float32, tf.int64]))
    with pytest.raises(ValueError, match=r"contains 1 NaN or infinite value\(s\) \(the first, NaN, at index "
                                         r"\(0, 0, 0\) of a batch\)"):
        _lecture_model().fit(later, epochs=1, verbose=0)
