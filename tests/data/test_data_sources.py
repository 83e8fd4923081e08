"""tf.data sources: from_tensor_slices, from_tensors, range, zip, from_generator, list_files and friends.

Expected element sequences, specs and cardinalities are TensorFlow 2.21's (its documentation's examples, checked
with the real TensorFlow once; TensorFlow is not needed here).
"""

import collections
import os

import numpy as np
import pytest
from dataset_helpers import values

import featherflow as tf

D = tf.data.Dataset


def test_import_featherflow_does_not_load_data_until_used():
    import subprocess
    import sys

    code = "import sys, featherflow as tf; a = 'featherflow.data' in sys.modules; tf.data.Dataset; print(a)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_from_tensor_slices_tuple_dict_and_strings():
    ds = D.from_tensor_slices(([1, 2, 3], [4.0, 5.0, 6.0]))
    assert values(ds) == [(1, 4.0), (2, 5.0), (3, 6.0)]
    assert ds.element_spec == (tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32))
    ds = D.from_tensor_slices({"a": [1, 2], "b": [3.0, 4.0]})
    assert values(ds) == [{"a": 1, "b": 3.0}, {"a": 2, "b": 4.0}]
    assert ds.batch(2).element_spec == {"a": tf.TensorSpec([None], tf.int32), "b": tf.TensorSpec([None], tf.float32)}
    ds = D.from_tensor_slices(["a", "bc"])
    assert values(ds) == [b"a", b"bc"] and ds.element_spec == tf.TensorSpec([], tf.string)
    x = np.zeros((4, 3))
    assert D.from_tensor_slices(x).element_spec == tf.TensorSpec([3], tf.float64)
    assert D.from_tensors(x).element_spec == tf.TensorSpec([4, 3], tf.float64)
    assert D.from_tensor_slices([1.5, 2]).element_spec == tf.TensorSpec([], tf.float32)


def test_iteration_yields_featherflow_tensors_and_keeps_dict_order():
    x, y = next(iter(D.from_tensor_slices((np.arange(6.0).reshape(3, 2), [7, 8, 9]))))
    assert isinstance(x, tf.Tensor) and isinstance(y, tf.Tensor)
    assert x.numpy().tolist() == [0.0, 1.0] and int(y) == 7
    element = next(iter(D.from_tensor_slices({"z": [1], "a": [2]})))
    assert list(element) == ["z", "a"]  # the user's key order, as TensorFlow keeps it


def test_named_tuples_are_structure():
    Point = collections.namedtuple("Point", "x y")
    ds = D.from_tensor_slices(Point([1, 2], [3, 4])).map(lambda p: Point(p.x * 10, p.y))
    assert values(ds) == [Point(10, 3), Point(20, 4)]
    assert isinstance(ds.element_spec, Point)


def test_from_tensor_slices_mismatched_lengths_name_the_argument():
    with pytest.raises(ValueError, match=r"Dimensions 3 and 4 are not compatible.*`tensors`.*\(3,\), \(4,\)"):
        D.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="rank >= 1"):
        D.from_tensor_slices(5)
    with pytest.raises(TypeError, match="expected numbers or strings"):
        D.from_tensor_slices(np.array([object()], dtype=object))


def test_range_and_cardinality():
    assert values(D.range(2, 10, 3)) == [2, 5, 8] and int(D.range(2, 10, 3).cardinality()) == 3
    assert values(D.range(5, 1, -2)) == [5, 3] and len(D.range(5, 1, -2)) == 2
    assert D.range(3).element_spec == tf.TensorSpec([], tf.int64)
    assert values(D.range(3, dtype=tf.int32)) == [0, 1, 2] and D.range(3, dtype="int32").element_spec.dtype == np.int32
    assert D.range(3, output_type=tf.float32).element_spec.dtype == np.float32  # TensorFlow's keyword
    assert values(D.counter(start=2, step=3).take(3)) == [2, 5, 8]
    assert int(D.counter().cardinality()) == tf.data.INFINITE_CARDINALITY == -1
    with pytest.raises(ValueError, match="step must be a non-zero"):
        D.range(0, 5, 0)
    with pytest.raises(TypeError, match="`stop` must be an integer"):
        D.range(2.5)


def test_len_of_infinite_and_unknown_datasets_raise_tensorflows_errors():
    with pytest.raises(TypeError, match="The dataset is infinite."):
        len(D.range(5).repeat())
    with pytest.raises(TypeError, match="The dataset length is unknown."):
        len(D.range(5).filter(lambda x: True))
    assert bool(D.range(0)) is True


def test_zip_tuples_and_dicts_stop_at_the_shortest():
    a, b = D.range(3), D.range(3, 6)
    assert values(D.zip(a, b)) == [(0, 3), (1, 4), (2, 5)]
    assert values(D.zip((a, b))) == values(D.zip(a, b))
    assert values(D.zip({"x": a, "y": b})) == [{"x": 0, "y": 3}, {"x": 1, "y": 4}, {"x": 2, "y": 5}]
    assert values(D.zip(a, D.range(10).repeat())) == [(0, 0), (1, 1), (2, 2)]
    assert len(D.zip(a, D.range(10))) == 3 and int(D.zip(a, a.filter(lambda v: True)).cardinality()) == -2
    with pytest.raises(TypeError, match="Python `list` is not supported"):
        D.zip([a, b])


def test_from_generator_with_output_signature_and_args():
    def gen(stop):
        for i in range(int(stop)):
            yield i, [float(i)] * (i + 1)

    ds = D.from_generator(gen, args=(3,), output_signature=(tf.TensorSpec([], tf.int64),
                                                            tf.TensorSpec([None], tf.float32)))
    assert values(ds) == [(0, [0.0]), (1, [1.0, 1.0]), (2, [2.0, 2.0, 2.0])]
    assert ds.element_spec[1] == tf.TensorSpec([None], tf.float32)
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert values(ds) == values(ds)  # the generator is called again for each iteration
    old = D.from_generator(lambda: iter([[1, 2], [3, 4]]), output_types=tf.int32, output_shapes=[2])
    assert values(old) == [[1, 2], [3, 4]] and old.element_spec == tf.TensorSpec([2], tf.int32)


def test_from_generator_refuses_elements_that_do_not_match_the_signature():
    def gen():
        yield np.zeros(3)
        yield np.zeros(4)

    ds = D.from_generator(gen, output_signature=tf.TensorSpec(shape=(3,), dtype=tf.float32))
    with pytest.raises(TypeError, match=r"`generator` yielded an element of shape \(4,\) where an element of shape "
                                        r"\(3,\) was expected."):
        list(ds)
    ds = D.from_generator(lambda: iter(["abc"]), output_signature=tf.TensorSpec([], tf.int32))
    with pytest.raises(TypeError, match="could not be converted to the expected type. The expected type was int32"):
        list(ds)
    ds = D.from_generator(lambda: iter([1]), output_signature=(tf.TensorSpec([]), tf.TensorSpec([])))
    with pytest.raises(TypeError, match="did not match the expected structure"):
        list(ds)
    with pytest.raises(TypeError, match="`generator` must be a Python callable"):
        D.from_generator(iter([1]), output_signature=tf.TensorSpec([]))
    with pytest.raises(TypeError, match="either the `output_signature` argument or the `output_types`"):
        D.from_generator(lambda: iter([1]))


def test_list_files_sorted_or_shuffled(tmp_path):
    for name in ("b.txt", "a.txt", "c.csv"):
        (tmp_path / name).write_text(name)
    pattern = os.path.join(str(tmp_path), "*.txt")
    names = [os.path.basename(v.decode()) for v in D.list_files(pattern, shuffle=False).as_numpy_iterator()]
    assert names == ["a.txt", "b.txt"]
    shuffled = D.list_files([pattern, os.path.join(str(tmp_path), "*.csv")], seed=4)
    assert sorted(os.path.basename(v.decode()) for v in shuffled.as_numpy_iterator()) == ["a.txt", "b.txt", "c.csv"]
    with pytest.raises(ValueError, match="No files matched pattern"):
        D.list_files(os.path.join(str(tmp_path), "*.png"))


def test_from_list_random_and_mixtures():
    assert values(tf.data.experimental.from_list([(1, "a"), (2, "b")])) == [(1, b"a"), (2, b"b")]
    first = values(D.random(seed=42).take(5))
    assert first == values(D.random(seed=42).take(5)) and len(set(first)) == 5
    assert all(0 <= v < 2**63 for v in first)
    mixed = values(D.sample_from_datasets([D.range(0, 100), D.range(100, 200)], weights=[0.5, 0.5], seed=3))
    assert sorted(mixed) == list(range(200))
    assert mixed[:50] != sorted(mixed[:50])  # interleaved, not one dataset after the other
    assert mixed == values(D.sample_from_datasets([D.range(0, 100), D.range(100, 200)], weights=[0.5, 0.5], seed=3))
    only_first = values(D.sample_from_datasets([D.range(3), D.range(10, 13)], weights=[1.0, 0.0], seed=1))
    assert only_first == [0, 1, 2]
    chosen = D.choose_from_datasets([D.from_tensors("foo").repeat(), D.from_tensors("bar").repeat(),
                                     D.from_tensors("baz").repeat()], D.range(3).repeat(3))
    assert values(chosen) == [b"foo", b"bar", b"baz"] * 3  # TensorFlow's documentation example
    with pytest.raises(TypeError, match="scalar of `tf.int64`"):
        D.choose_from_datasets([D.range(2)], D.range(2).map(lambda v: tf.cast(v, tf.float32)))
