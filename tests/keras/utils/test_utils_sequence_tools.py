"""pad_sequences, timeseries_dataset_from_array and split_dataset against hand-computed values."""

import random

import numpy as np
import pytest

import featherflow as tf
from featherflow.keras import utils

SEQS = [[1], [2, 3], [4, 5, 6, 7]]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({}, [[0, 0, 0, 1], [0, 0, 2, 3], [4, 5, 6, 7]]),
        ({"padding": "post"}, [[1, 0, 0, 0], [2, 3, 0, 0], [4, 5, 6, 7]]),
        ({"maxlen": 2}, [[0, 1], [2, 3], [6, 7]]),
        ({"maxlen": 2, "truncating": "post"}, [[0, 1], [2, 3], [4, 5]]),
        ({"maxlen": 3, "padding": "post", "truncating": "post", "value": -1}, [[1, -1, -1], [2, 3, -1], [4, 5, 6]]),
        ({"maxlen": 5, "value": 9}, [[9, 9, 9, 9, 1], [9, 9, 9, 2, 3], [9, 4, 5, 6, 7]]),
    ],
)
def test_pad_sequences_options(kwargs, expected):
    out = utils.pad_sequences(SEQS, **kwargs)
    assert out.dtype == np.int32
    assert out.tolist() == expected


def test_pad_sequences_dtype_and_value():
    out = utils.pad_sequences([[0.5, 1.5], [2.25]], dtype="float32", value=-0.5)
    assert out.dtype == np.float32
    assert out.tolist() == [[0.5, 1.5], [-0.5, 2.25]]
    truncated = utils.pad_sequences([[0.7, 1.9]], maxlen=1)  # default int32 truncates floats
    assert truncated.tolist() == [[1]]
    words = utils.pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>", padding="post")
    assert words.tolist() == [["a", "b"], ["c", "<pad>"]]
    with pytest.raises(ValueError, match="dtype=object"):
        utils.pad_sequences([["a"]], value="<pad>")


def test_pad_sequences_vectors_empty_and_errors():
    out = utils.pad_sequences([np.ones((1, 2)), np.full((3, 2), 2.0), []], dtype="float64")
    assert out.shape == (3, 3, 2)
    np.testing.assert_array_equal(out[0], [[0, 0], [0, 0], [1, 1]])
    np.testing.assert_array_equal(out[2], np.zeros((3, 2)))
    assert utils.pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)
    assert utils.pad_sequences([]).shape == (0, 0)
    with pytest.raises(ValueError, match="different from expected shape"):
        utils.pad_sequences([np.ones((1, 2)), np.ones((1, 3))])
    with pytest.raises(ValueError, match="not understood"):
        utils.pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="not understood"):
        utils.pad_sequences(SEQS, truncating="middle")
    with pytest.raises(ValueError, match="non-iterable"):
        utils.pad_sequences([1, 2])


def test_timeseries_windows_and_targets():
    data = np.arange(10)
    ds = utils.timeseries_dataset_from_array(data, data * 10, sequence_length=3, sequence_stride=2,
                                             sampling_rate=2, batch_size=2)
    # windows start at 0, 2, 4 (last index 4 + 2*2 = 8 < 10); stride 2 -> starts 0, 2, 4
    batches = list(ds.as_numpy_iterator())
    assert len(ds) == 2 and isinstance(ds, tf.data.Dataset)
    inputs, targets = batches[0]
    assert inputs.tolist() == [[0, 2, 4], [2, 4, 6]] and targets.tolist() == [0, 20]
    inputs, targets = batches[1]
    assert inputs.tolist() == [[4, 6, 8]] and targets.tolist() == [40]


def test_timeseries_start_end_and_multivariate():
    data = np.arange(20).reshape(10, 2)
    ds = utils.timeseries_dataset_from_array(data, None, sequence_length=2, batch_size=None, start_index=3, end_index=7)
    windows = [w.numpy().tolist() for w in ds]
    # timesteps 3..6 -> windows starting at 3, 4, 5
    assert windows == [[[6, 7], [8, 9]], [[8, 9], [10, 11]], [[10, 11], [12, 13]]]
    assert next(ds.take(1).as_numpy_iterator()).tolist() == windows[0]
    assert ds.element_spec == tf.TensorSpec([2, 2], data.dtype)


def test_timeseries_targets_limit_and_shuffle():
    data = np.arange(8)
    ds = utils.timeseries_dataset_from_array(data, np.arange(3), sequence_length=2, batch_size=10)
    inputs, targets = next(iter(ds))
    assert inputs.numpy().tolist() == [[0, 1], [1, 2], [2, 3]] and targets.numpy().tolist() == [0, 1, 2]
    shuffled = utils.timeseries_dataset_from_array(data, data, sequence_length=2, batch_size=None, shuffle=True, seed=3)
    epoch1 = [int(t) for _, t in shuffled]
    assert sorted(epoch1) == list(range(7)) and epoch1 != list(range(7))
    assert [int(t) for _, t in shuffled] != epoch1  # the shuffle buffer draws a new order each epoch, as in tf.keras
    for window, target in shuffled.as_numpy_iterator():
        assert window.tolist() == [target, target + 1]
    with pytest.raises(ValueError, match="sampling_rate"):
        utils.timeseries_dataset_from_array(data, None, 2, sampling_rate=0)
    with pytest.raises(ValueError, match="start_index"):
        utils.timeseries_dataset_from_array(data, None, 2, start_index=8)
    with pytest.raises(ValueError, match="end_index"):
        utils.timeseries_dataset_from_array(data, None, 2, start_index=4, end_index=3)


def test_split_dataset_sizes():
    x = np.arange(10)
    left, right = utils.split_dataset(x, left_size=0.8)
    assert left.tolist() == list(range(8)) and right.tolist() == [8, 9]
    left, right = utils.split_dataset(x, right_size=3)
    assert left.tolist() == list(range(7)) and right.tolist() == [7, 8, 9]
    left, right = utils.split_dataset(x, left_size=2, right_size=3)  # right comes from the end
    assert left.tolist() == [0, 1] and right.tolist() == [7, 8, 9]
    left, right = utils.split_dataset(x, left_size=0.25)  # round(2.5) = 2 (banker's rounding, as Python)
    assert len(left) == 2 and len(right) == 8


def test_split_dataset_structures_and_shuffle():
    x, y = np.arange(12).reshape(6, 2), np.arange(6) * 10
    (x_left, y_left), (x_right, y_right) = utils.split_dataset((x, y), left_size=4, shuffle=True, seed=1)
    order = list(range(6))
    random.Random(1).shuffle(order)
    np.testing.assert_array_equal(x_left, x[order[:4]])
    np.testing.assert_array_equal(y_right, y[order[4:]])
    left, right = utils.split_dataset({"a": x, "b": y}, right_size=0.5)
    assert sorted(left) == ["a", "b"] and left["b"].tolist() == [0, 10, 20] and right["a"].shape == (3, 2)
    as_list = utils.split_dataset([x, y], left_size=1)
    assert isinstance(as_list[0], list) and as_list[0][1].tolist() == [0]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({}, ValueError),
        ({"left_size": 0, "right_size": 0}, ValueError),
        ({"left_size": 1.5}, ValueError),
        ({"left_size": 10}, ValueError),
        ({"left_size": 0.6, "right_size": 0.6}, ValueError),
        ({"left_size": 6, "right_size": 6}, ValueError),
        ({"left_size": "half"}, TypeError),
        ({"left_size": 0.01}, ValueError),  # round(0.1) = 0 -> empty left side
    ],
)
def test_split_dataset_errors(kwargs, error):
    with pytest.raises(error):
        utils.split_dataset(np.arange(10), **kwargs)
