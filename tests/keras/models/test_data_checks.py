"""``fit``'s checks of its data: bad values and shapes raise a ValueError/TypeError that names the argument,
instead of training on silently wrong data (NaN weights, a validation loss of 0.0, a stale finiteness check)."""

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras


def classifier():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.random((20, 3)).astype("float32"), rng.integers(0, 2, 20)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_sample_weight_is_refused_naming_it(data, bad):
    x, y = data
    weights = np.ones(20)
    weights[3] = bad
    model = classifier()
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"`sample_weight` contains 1 NaN or infinite value.*at index \(3,\)"):
        model.fit(x, y, sample_weight=weights, epochs=1, verbose=0)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)  # refused before any step


def test_non_finite_sample_weight_from_a_generator_is_refused(data):
    x, y = data
    weights = np.ones(20)
    weights[7] = np.nan

    def batches():
        for start in range(0, 20, 10):
            yield x[start:start + 10], y[start:start + 10], weights[start:start + 10]

    with pytest.raises(ValueError, match=r"`x` \(the sample_weight of its batches\) contains 1 NaN.*\(7,\) of a batch"):
        classifier().fit(batches(), epochs=1, verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, "heavy"])
def test_non_finite_class_weight_is_refused_naming_it(data, bad):
    x, y = data
    with pytest.raises(ValueError, match=r"`class_weight` values must be .*class 0.*Received: class_weight="):
        classifier().fit(x, y, class_weight={0: bad, 1: 1.0}, epochs=1, verbose=0)


def test_finite_weights_still_train(data):
    x, y = data
    history = classifier().fit(x, y, sample_weight=np.linspace(0.5, 1.5, 20), class_weight={0: 2.0, 1: 1.0},
                               epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_nan_written_in_place_between_two_fits_is_seen():
    # 70,000 x 3 values: above the size from which the old check remembered an array as finite by identity.
    rng = np.random.default_rng(1)
    x = rng.random((70_000, 3)).astype("float32")
    y = rng.integers(0, 2, 70_000)
    model = classifier()
    model.fit(x, y, batch_size=10_000, epochs=1, verbose=0)
    x[5, 1] = np.nan  # the same array object, new contents
    with pytest.raises(ValueError, match=r"`x` contains 1 NaN .*at index \(5, 1\)"):
        model.fit(x, y, batch_size=10_000, epochs=1, verbose=0)
    assert np.all(np.isfinite(model.get_weights()[0]))


@pytest.mark.parametrize("validation_data", ["tuple", "array"])
def test_validation_data_without_targets_is_refused(data, validation_data):
    x, y = data
    given = (x,) if validation_data == "tuple" else x
    with pytest.raises(ValueError, match=r"Target data is missing from `validation_data`.*\(x_val, y_val\)"):
        classifier().fit(x, y, validation_data=given, epochs=1, verbose=0)


def test_validation_without_targets_is_fine_when_nothing_needs_them(data):
    x, _ = data

    class Reconstruction(keras.Model):  # the loss comes from add_loss: no targets anywhere
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3)

        def call(self, inputs):
            out = self.dense(inputs)
            self.add_loss(tf.reduce_mean((out - inputs) ** 2))
            return out

    model = Reconstruction()
    model.compile(optimizer="adam")
    history = model.fit(x, epochs=2, validation_data=(x,), verbose=0)
    assert len(history.history["val_loss"]) == 2 and history.history["val_loss"][-1] > 0


@pytest.mark.parametrize("position", [0, 1])
def test_nan_in_validation_data_names_validation_data(data, position):
    x, y = data
    x_val, y_val = x.copy(), y.astype("float32")
    (x_val, y_val)[position][2] = np.nan
    with pytest.raises(ValueError, match=rf"The data in `validation_data\[{position}\]` contains \d+ NaN"):
        classifier().fit(x, y, validation_data=(x_val, y_val), epochs=1, verbose=0)


def _batch_sources(x, y):
    """The same batches of 10 as a tf.data dataset, a generator and a keras.utils.Sequence."""
    class Batches(keras.utils.Sequence):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return x[10 * i:10 * i + 10], y[10 * i:10 * i + 10]

    return {"dataset": tf.data.Dataset.from_tensor_slices((x, y)).batch(10),
            "generator": ((x[i:i + 10], y[i:i + 10]) for i in (0, 10)), "sequence": Batches()}


@pytest.mark.parametrize("kind", ["dataset", "generator", "sequence"])
@pytest.mark.parametrize("position", [0, 1])
def test_nan_in_batches_of_validation_data_names_validation_data(data, kind, position):
    x, y = data
    x_val, y_val = x.copy(), y.astype("float32")
    (x_val, y_val)[position][12, 0 if position == 0 else ...] = np.nan
    part = ("x", "y")[position]
    index = r"\(2, 0\)" if position == 0 else r"\(2,\)"
    with pytest.raises(ValueError, match=rf"The data in `validation_data` \(the {part} of its batches\) contains 1 "
                                         rf"NaN .*at index {index} of a batch"):
        classifier().fit(x, y, validation_data=_batch_sources(x_val, y_val)[kind], epochs=1, verbose=0)


@pytest.mark.parametrize("kind", ["dataset", "generator"])
def test_nan_in_batches_of_x_names_x(data, kind):
    x, y = data
    x_bad = x.copy()
    x_bad[15, 2] = np.inf
    with pytest.raises(ValueError, match=r"The data in `x` \(the x of its batches\) contains 1 NaN or infinite value"
                                         r"\(s\) \(the first, infinite, at index \(5, 2\) of a batch\)"):
        classifier().fit(_batch_sources(x_bad, y)[kind], epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`x` \(the x of its batches\)"):
        classifier().evaluate(_batch_sources(x_bad, y)[kind], verbose=0)


@pytest.mark.parametrize("epochs", [2.5, 2.0, "3", True])
def test_epochs_must_be_an_integer(data, epochs):
    x, y = data
    with pytest.raises(TypeError, match=rf"`epochs` must be an integer.*Received: epochs={epochs!r}"):
        classifier().fit(x, y, epochs=epochs, verbose=0)


def test_numpy_integer_epochs_are_fine(data):
    x, y = data
    history = classifier().fit(x, y, epochs=np.int64(2), verbose=0)
    assert len(history.history["loss"]) == 2


def test_ragged_lists_get_a_message_about_their_lengths():
    model = classifier()
    with pytest.raises(ValueError, match=r"non-rectangular Python sequence.*rows of `x` have different lengths.*"
                                         r"pad_sequences.*Received: x=\[\[1, 2, 3\], \[1, 2\]\]"):
        model.fit([[1, 2, 3], [1, 2]], [0, 1], epochs=1, verbose=0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, None])
def test_check_finite_finds_every_non_finite_value_and_accepts_huge_finite_ones(dtype, layout, bad):
    """The one-pass test (BLAS's sum of squares for contiguous float32/64, NumPy's sum otherwise) never misses a
    NaN or infinity, and an overflowing pass over finite values (1e30 squared) still passes."""
    from featherflow.keras.models.data_adapter import check_finite

    big = np.finfo(dtype).max / 4
    arr = np.full((6, 8), big, dtype)
    arr[::2] = -big
    if layout == "strided":
        arr = arr[:, ::2]
    check_finite(arr, "x")  # finite, though the sums overflow
    if bad is not None:
        arr[4, 3] = bad
        with pytest.raises(ValueError, match=r"`x` contains 1 NaN or infinite value.*at index \(4, 3\)"):
            check_finite(arr, "x")


@pytest.mark.parametrize("n, batch_size, row", [(100, 8, (3,)), (1000, 32, (28, 28)), (7, 32, (2,)), (50, 4, (600, 600))])
def test_shuffled_batches_gathered_in_chunks_are_the_per_batch_gathers(n, batch_size, row):
    """fit's shuffled batches come from one fancy index per chunk of batches (at most ~1 MB): each batch holds the
    same rows in the same order as ``x[perm[start:stop]]`` would, the last one partial."""
    from featherflow.keras.models.data_adapter import _gathered_batches

    rng = np.random.default_rng(n)
    x = rng.random((n,) + row).astype("float32")
    y, sw = rng.integers(0, 5, n), rng.random(n)
    perm = rng.permutation(n)
    got = list(_gathered_batches(perm, batch_size, x, y, sw))
    starts = range(0, n, batch_size)
    assert len(got) == len(starts)
    for (xb, yb, swb), start in zip(got, starts):
        index = perm[start:start + batch_size]
        np.testing.assert_array_equal(xb, x[index])
        np.testing.assert_array_equal(yb, y[index])
        np.testing.assert_array_equal(swb, sw[index])
        assert xb.flags.c_contiguous
    assert all(b[1] is None and b[2] is None for b in _gathered_batches(perm, batch_size, x, None, None))


@pytest.mark.parametrize("numba", [True, False])
@pytest.mark.parametrize("eager", [False, True])
def test_a_bad_label_in_a_later_chunk_fails_fit_with_the_batch_message(numba, eager):
    """fit notes each gathered chunk's label range so the loss's per-batch check can skip its scan; a label out of
    the model's classes still fails with the same message, compiled or eager, with the kernels on or off."""
    from featherflow.ops import _kernels

    _kernels.use_kernels(numba)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=eager)
    rng = np.random.default_rng(3)
    x, y = rng.random((4000, 3)).astype("float32"), rng.integers(0, 4, 4000)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # fine labels: fine
    y[3900] = 4  # in a chunk gathered late in the epoch (shuffled)
    with pytest.raises(ValueError, match=r"label value of 4 which is outside the valid range of \[0, 4\)"):
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    y[3900] = -1
    with pytest.raises(ValueError, match=r"label value of -1 which is outside the valid range of \[0, 4\)"):
        model.fit(x, y.astype("int32"), batch_size=32, epochs=1, verbose=0)


def test_fit_checks_labels_through_the_noted_chunk_ranges(monkeypatch):
    from featherflow.ops import nn

    calls = []
    real = nn._known_range_fits
    monkeypatch.setattr(nn, "_known_range_fits", lambda labels, k: calls.append(real(labels, k)) or calls[-1])
    model = classifier()
    rng = np.random.default_rng(1)
    model.fit(rng.random((640, 3)).astype("float32"), rng.integers(0, 2, 640), batch_size=32, epochs=1, verbose=0)
    assert len(calls) >= 20 and all(calls)  # every batch's check answered by its chunk's noted range
