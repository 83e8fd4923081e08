"""The row softmax through its compiled kernels (``ops/_numba_softmax.py`` via ``ops/_softmax_compiled.py``):
the NumPy path's numbers bit for bit (every row length through NumPy's pairwise sums), against an independent
float64 reference, non-finite logits, finite differences, and a compiled ``tf.function`` (eager and compiled steps
bit for bit; a replay after the kernels are switched off); the accuracy count against NumPy's."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow import keras
from featherflow.ops import _kernels, _softmax_compiled, array_kernels

pytestmark = pytest.mark.skipif(not _kernels.available(), reason="Numba is not installed: NumPy path only")


@pytest.fixture(autouse=True)
def _kernels_on():
    """The kernels for every size; the mode found (``FEATHERFLOW_NUMBA=0``'s off included) comes back."""
    previous = _kernels._state["enabled"]
    _kernels.use_kernels(True)
    yield
    _kernels._state["enabled"] = previous


def _reference(z):
    z = z.astype(np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("dtype,rtol", [("float32", 1e-5), ("float64", 1e-13)])  # z - max: up to 40, rounded
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 8), (32, 10), (4, 17), (5, 127), (5, 128), (5, 129),
                                   (2, 1000)])  # (more than 128 classes: the NumPy path)
def test_kernels_give_the_numpy_path_bit_for_bit(dtype, rtol, shape):
    z = random_array(shape, dtype=dtype, seed=3, low=-20, high=20)
    out = ff.nn.softmax(z).numpy()
    assert out.dtype == np.dtype(dtype) and out.shape == shape
    np.testing.assert_array_equal(out, array_kernels.softmax(z, -1))
    np.testing.assert_array_equal(out, _softmax_compiled.softmax_rows(z))  # what the op ran
    np.testing.assert_allclose(out, _reference(z), rtol=rtol, atol=1e-300)


def test_non_finite_logits_give_what_the_numpy_path_gives():
    z = np.array([[1.0, np.nan, 2.0], [np.inf, 0.0, 1.0], [-np.inf, 0.0, 0.0], [-np.inf, -np.inf, -np.inf],
                  [1e30, -1e30, 0.0]], np.float32)
    with np.errstate(invalid="ignore"):
        expected = array_kernels.softmax(z, -1)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(_softmax_compiled.softmax_rows(z), expected)  # NaN where NumPy's is


def test_other_shapes_and_axes_keep_the_numpy_path():
    assert _softmax_compiled.compiled_softmax(np.zeros((2, 3, 4), np.float32), -1) is None
    assert _softmax_compiled.compiled_softmax(np.zeros((2, 3), np.float32), 0) is None
    assert _softmax_compiled.compiled_softmax(np.zeros((0, 3), np.float32), -1) is None
    assert _softmax_compiled.compiled_softmax(np.zeros((2, 3), np.float16), -1) is None
    assert _softmax_compiled.compiled_softmax(np.zeros((2, 129), np.float32), 1) is None
    assert _softmax_compiled.compiled_softmax(np.zeros((2, 3), np.float32), 1) is not None
    _kernels.use_kernels(False)
    assert _softmax_compiled.compiled_softmax(np.zeros((2, 3), np.float32), -1) is None


def test_gradient_and_remembered_logits():
    z = random_array((4, 6), seed=5, low=-3, high=3)
    check_gradient(lambda t: ff.nn.softmax(t), [z])
    logits = ff.constant(z)
    assert ff.nn.softmax(logits)._logits is logits  # a following cross-entropy still fuses


def test_eager_and_compiled_steps_are_bit_identical_and_a_replay_follows_the_switch():
    def model():
        keras.utils.set_random_seed(0)
        net = keras.Sequential([keras.Input((12,)), keras.layers.Dense(16, activation="relu"),
                                keras.layers.Dense(5, activation="softmax")])
        net.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])  # softmax's backward
        return net

    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 12)).astype("float32")
    y = np.eye(5, dtype="float32")[rng.integers(0, 5, 64)]
    results = []
    for eager in (False, True):
        net = model()
        net.run_eagerly = eager
        history = net.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        results.append((history.history, net.get_weights(), net.predict(x, verbose=0)))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1] + [results[0][2]], results[1][1] + [results[1][2]]):
        np.testing.assert_array_equal(a, b)

    f = ff.function(lambda t: ff.nn.softmax(t))
    z = random_array((3, 4), dtype="float32", seed=1)
    np.testing.assert_array_equal(f(z).numpy(), _softmax_compiled.softmax_rows(z))
    _kernels.use_kernels(False)  # the traced host call computes the NumPy path's numbers, as eager code now does
    np.testing.assert_array_equal(f(z).numpy(), array_kernels.softmax(z, -1))
    np.testing.assert_array_equal(ff.nn.softmax(z).numpy(), array_kernels.softmax(z, -1))


@pytest.mark.parametrize("scores_dtype", ["float32", "float64"])
@pytest.mark.parametrize("labels_dtype", ["int64", "int32", "uint8"])
def test_accuracy_count_is_numpys_argmax_count(scores_dtype, labels_dtype):
    rng = np.random.default_rng(4)
    scores = rng.integers(0, 3, size=(40, 5)).astype(scores_dtype)  # many ties: the first maximum counts
    scores[3, 2] = np.nan  # the first NaN is the argmax
    scores[4, [1, 3]] = np.nan
    scores[5] = np.nan
    labels = rng.integers(0, 5, size=40).astype(labels_dtype)
    labels[3], labels[4], labels[5] = 2, 1, 0
    run = _softmax_compiled.compiled_accuracy_update(labels, scores)
    total, count = np.array(1.0), np.array(2.0)
    run(labels, scores, total, count)
    assert float(total) == 1.0 + float((labels == scores.argmax(axis=-1)).sum()) and float(count) == 42.0
    _kernels.use_kernels(False)
    assert _softmax_compiled.compiled_accuracy_update(labels, scores) is None
    again_total, again_count = np.array(1.0), np.array(2.0)
    _softmax_compiled.add_argmax_matches(labels, scores, again_total, again_count)  # a replay with the kernels off
    assert (float(again_total), float(again_count)) == (float(total), float(count))


def test_accuracy_count_keeps_the_numpy_path_for_other_shapes():
    assert _softmax_compiled.compiled_accuracy_update(np.zeros(3, np.int64), np.zeros((3, 2, 2), np.float32)) is None
    assert _softmax_compiled.compiled_accuracy_update(np.zeros(2, np.int64), np.zeros((3, 2), np.float32)) is None
    assert _softmax_compiled.compiled_accuracy_update(np.zeros(3, np.float32), np.zeros((3, 2), np.float32)) is None


def test_compiled_fit_counts_sparse_accuracy_as_eager_fit_does():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(80, 6)).astype("float32"), rng.integers(0, 4, 80)
    histories = []
    for eager in (False, True):
        keras.utils.set_random_seed(1)
        net = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="softmax")])
        net.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"], run_eagerly=eager)
        histories.append(net.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False).history)
        if not eager:
            source = net._train_fn.function._traces.popitem()[1].program.source
            assert "add_argmax_matches" in source and ".argmax(" not in source
    assert histories[0] == histories[1]
    expected = ((net.predict(x, verbose=0).argmax(axis=-1) == y).mean())
    assert net.evaluate(x, y, verbose=0)[1] == pytest.approx(expected)
