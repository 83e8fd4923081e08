"""tf.data element and order transformations: map, filter, shuffle, repeat, take, skip, shard, enumerate,
concatenate, unique, scan, take_while, reduce, apply, options. Sequences and cardinalities are TensorFlow 2.21's."""

import itertools
import math

import numpy as np
import pytest
from dataset_helpers import values

import featherflow as tf

D = tf.data.Dataset


def test_map_unpacks_tuples_and_turns_returned_lists_into_tuples():
    ds = D.from_tensor_slices(([1, 2], [10, 20])).map(lambda a, b: a + b)
    assert values(ds) == [11, 22]
    ds = D.range(3).map(lambda x: [x, x * 2])
    assert values(ds) == [(0, 0), (1, 2), (2, 4)]
    assert ds.element_spec == (tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.int64))
    spec = D.range(3).map(lambda x: {"a": x, "b": (x, x)}).element_spec
    assert spec == {"a": tf.TensorSpec([], tf.int64), "b": (tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.int64))}
    ds = D.from_tensor_slices({"x": [1.0, 2.0]}).map(lambda d: d["x"] * 2)
    assert values(ds) == [2.0, 4.0]


def test_map_element_spec_marks_value_dependent_and_unknown_sizes():
    assert D.range(3).map(lambda x: tf.fill([x], x)).element_spec == tf.TensorSpec([None], tf.int64)
    assert D.range(3).batch(2).map(lambda x: x * 2).element_spec == tf.TensorSpec([None], tf.int64)
    images = D.from_tensor_slices(np.zeros((4, 28, 28), "uint8")).batch(2)
    spec = images.map(lambda x: tf.reshape(tf.cast(x, tf.float32) / 255.0, (-1, 784))).element_spec
    assert spec == tf.TensorSpec([None, 784], tf.float32)


def test_py_function_user_code_never_sees_stand_in_elements():
    # finding the element spec ran load() on made-up values (b'' and b'1'); TensorFlow's tracing does not run it
    seen = []

    def load(path):
        seen.append(path.numpy())
        return tf.constant([1.0, 2.0])

    ds = tf.data.Dataset.from_tensor_slices(["a.png", "b.png"]).map(lambda p: tf.py_function(load, [p], tf.float32))
    assert ds.element_spec.shape == (2,) and seen == [b"a.png"]  # the spec comes from a real element
    seen.clear()
    assert len(values(ds)) == 2 and seen == [b"a.png", b"b.png"]
    numbers = tf.data.Dataset.range(3).map(lambda x: tf.numpy_function(lambda a: seen.append(int(a)) or a * 2, [x],
                                                                       tf.int64))
    seen.clear()
    assert numbers.element_spec.dtype == np.int64 and seen == [0]


def test_filter_keeps_true_elements_and_refuses_non_boolean_predicates():
    assert values(D.range(10).filter(lambda x: x % 3 == 0)) == [0, 3, 6, 9]
    with pytest.raises(ValueError, match=r"`predicate` must return a `tf.bool` scalar tensor, but its return type is "
                                         r"TensorSpec\(shape=\(\), dtype=tf.int64"):
        list(D.range(3).filter(lambda x: x))


def test_repeat_take_skip_shard_sequences_and_cardinalities():
    assert values(D.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    assert values(D.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]
    assert values(D.range(10).skip(7)) == [7, 8, 9] and values(D.range(5).take(-1)) == [0, 1, 2, 3, 4]
    assert values(D.range(10).shard(3, 1)) == [1, 4, 7]
    assert values(D.range(0).repeat()) == []
    cases = {  # TensorFlow 2.21's cardinalities
        D.range(5).take(10): 5, D.range(5).skip(10): 0, D.range(5).repeat(3): 15, D.range(5).take(-1): 5,
        D.range(10).skip(3): 7, D.range(10).skip(-1): 0, D.range(10).repeat(0): 0, D.range(0).repeat(): 0,
        D.range(3).filter(lambda x: True).repeat(): -1, D.range(10).shard(3, 2): 3, D.range(10).shard(3, 1): 3,
        D.range(10).repeat().take(5): 5, D.range(10).filter(lambda x: x > 3): -2,
        D.range(10).concatenate(D.range(3).repeat()): -1,
        D.range(10).filter(lambda x: True).concatenate(D.range(3).repeat()): -1,
        D.range(5).cache(): 5, D.range(5).shuffle(3): 5, D.range(5).prefetch(1): 5,
        D.range(3).enumerate(): 3,
    }
    for ds, expected in cases.items():
        assert int(ds.cardinality()) == expected, ds
    with pytest.raises(ValueError, match="`index` must be between 0 and num_shards - 1"):
        D.range(3).shard(2, 2)


def test_enumerate_concatenate_unique_scan_take_while():
    assert values(D.range(3).enumerate(start=5)) == [(5, 0), (6, 1), (7, 2)]
    assert values(D.range(10).take(3).concatenate(D.range(5))) == [0, 1, 2, 0, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="Incompatible dataset elements"):
        D.range(3).concatenate(D.from_tensor_slices([1.0]))
    assert values(D.from_tensor_slices([1, 1, 2, 3, 3, 1]).unique()) == [1, 2, 3]
    assert values(D.from_tensor_slices(["b", "a", "b"]).unique()) == [b"b", b"a"]
    with pytest.raises(TypeError, match="Unique transformation only supports"):
        D.range(3).map(lambda x: tf.cast(x, tf.float32)).unique()
    assert values(D.range(5).scan(np.int64(0), lambda s, x: (s + x, s * 10))) == [0, 0, 10, 30, 60]
    assert values(D.range(10).take_while(lambda x: x < 4)) == [0, 1, 2, 3]


def test_reduce_get_single_element_and_apply():
    assert int(D.range(5).reduce(np.int64(0), lambda total, x: total + x)) == 10
    pairs = D.from_tensor_slices(([1, 2], [3, 4]))
    assert int(pairs.reduce(np.int32(0), lambda s, element: s + element[0] * element[1])) == 11
    with pytest.raises(TypeError, match="must match the initial state"):
        D.range(3).reduce(np.int64(0), lambda s, x: tf.cast(s, tf.float32))
    assert int(D.range(3).skip(2).get_single_element()) == 2
    with pytest.raises(ValueError, match="Dataset had more than one element."):
        D.range(3).get_single_element()
    assert values(D.range(5).apply(lambda d: d.skip(3))) == [3, 4]
    with pytest.raises(TypeError, match="must return a Dataset"):
        D.range(3).apply(lambda d: 3)


def _first_positions(buffer_size: int, n: int, seed: int) -> list:
    return values(D.range(n).shuffle(buffer_size, seed=seed))


def test_shuffle_buffer_semantics():
    assert _first_positions(1, 6, 0) == [0, 1, 2, 3, 4, 5]  # a buffer of one element is the identity
    for seed in range(20):
        order = _first_positions(3, 12, seed)
        assert sorted(order) == list(range(12))
        # output t is drawn from a buffer holding at most elements 0 .. t + buffer_size - 1
        assert all(v <= t + 2 for t, v in enumerate(order))
    with pytest.raises(ValueError, match="`buffer_size` must be greater than zero"):
        D.range(3).shuffle(0)
    with pytest.raises(ValueError, match="or UNKNOWN_CARDINALITY"):
        D.range(3).shuffle(-1)
    whole = D.range(50).filter(lambda x: x < 40)
    for buffer in (whole.cardinality(), D.range(40).cardinality()):  # -2 (unknown): a buffer of everything
        order = values(whole.shuffle(buffer, seed=3))
        assert sorted(order) == list(range(40)) and max(order[:5]) > 5


def test_shuffle_with_a_full_buffer_gives_uniform_permutations():
    counts = {}
    for seed in range(1200):
        order = tuple(_first_positions(3, 3, seed))
        counts[order] = counts.get(order, 0) + 1
    assert sorted(counts) == sorted(itertools.permutations(range(3)))
    expected = 1200 / 6
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 20.5  # p = 0.001 for 5 degrees of freedom


def test_shuffle_seeds_and_reshuffle_each_iteration():
    ds = D.range(20).shuffle(20, seed=7)
    epoch1, epoch2 = values(ds), values(ds)
    assert epoch1 != epoch2 and sorted(epoch1) == sorted(epoch2) == list(range(20))
    assert values(D.range(20).shuffle(20, seed=7)) == epoch1  # same seed, same orders, run after run
    fixed = D.range(20).shuffle(20, seed=7, reshuffle_each_iteration=False)
    assert values(fixed) == values(fixed)
    repeated = values(D.range(5).shuffle(5, seed=1).repeat(3))
    assert [sorted(repeated[i:i + 5]) for i in (0, 5, 10)] == [list(range(5))] * 3  # epochs do not mix
    assert repeated[:5] != repeated[5:10] or repeated[5:10] != repeated[10:]


def test_global_seed_makes_unseeded_shuffles_reproducible():
    tf.random.set_seed(11)
    first = [values(D.range(30).shuffle(30)), values(D.range(30).shuffle(30))]
    tf.random.set_seed(11)
    again = [values(D.range(30).shuffle(30)), values(D.range(30).shuffle(30))]
    assert first == again and first[0] != first[1]


def test_batched_gather_path_gives_the_element_by_element_order():
    x = np.arange(40).reshape(20, 2)
    fast = D.from_tensor_slices(x).shuffle(7, seed=3).repeat(2).skip(3).shard(2, 1).take(15).batch(4)
    slow = D.from_tensor_slices(x).map(lambda v: v).shuffle(7, seed=3).repeat(2).skip(3).shard(2, 1).take(15).batch(4)
    assert fast._elements is not None and fast._input._index_source() is not None
    assert slow._input._index_source() is None
    assert values(fast) == values(slow)
    assert len(values(fast)) == math.ceil(15 / 4)


def test_options_are_kept_and_merged():
    options = tf.data.Options()
    options.deterministic = False
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    ds = D.range(3).with_options(options).map(lambda x: x)
    assert ds.options().deterministic is False
    assert ds.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    assert D.range(3).options().deterministic is None
    with pytest.raises(AttributeError, match="Cannot set the property unknown_option"):
        options.unknown_option = 1
    with pytest.raises(TypeError, match="`tf.data.Options`"):
        D.range(3).with_options({"deterministic": False})


def test_assert_cardinality():
    ds = D.range(10).filter(lambda x: x < 3).apply(tf.data.experimental.assert_cardinality(3))
    assert len(ds) == 3 and values(ds) == [0, 1, 2]
    with pytest.raises(ValueError, match="expected to contain 2 elements but contained at least 3"):
        list(D.range(5).assert_cardinality(2))
    with pytest.raises(ValueError, match="expected to contain 7 elements but contained only 5"):
        list(D.range(5).assert_cardinality(7))
