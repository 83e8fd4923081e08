"""tf.lookup against the values and error texts TensorFlow 2.21 gives for the same calls."""

import numpy as np
import pytest

import featherflow as tf

L = tf.lookup


def test_static_hash_table():
    init = L.KeyValueTensorInitializer(["a", "b", "c"], [1, 2, 3])
    assert init.key_dtype == tf.string and init.value_dtype == tf.int32
    table = L.StaticHashTable(init, -1)
    out = table.lookup(tf.constant([["a", "z"], ["c", "b"]]))
    assert out.numpy().tolist() == [[1, -1], [3, 2]] and out.dtype == tf.int32
    assert table[tf.constant(["b"])].numpy().tolist() == [2]
    assert int(table.size()) == 3 and int(table.default_value) == -1
    keys, values = table.export()
    assert dict(zip(keys.numpy().tolist(), values.numpy().tolist())) == {b"a": 1, b"b": 2, b"c": 3}
    with pytest.raises(TypeError, match=r"^Dtype of argument `keys` must be <dtype: 'string'>, received: "
                                        r"<dtype: 'int32'>$"):
        table.lookup(tf.constant([1, 2]))
    with pytest.raises(TypeError, match="Cannot convert"):
        L.StaticHashTable(init, -1.5)
    with pytest.raises(tf.errors.FailedPreconditionError, match="HashTable has different value for same key. Key a "
                                                                "has 1 and trying to add value 2"):
        L.StaticHashTable(L.KeyValueTensorInitializer(["a", "a"], [1, 2]), -1)
    ints = L.StaticHashTable(L.KeyValueTensorInitializer(tf.constant([1, 2]), ["x", "y"]), "d")
    assert ints.lookup(tf.constant([2, 5])).numpy().tolist() == [b"y", b"d"]


def test_static_vocabulary_table_oov_buckets_match_tensorflow():
    init = L.KeyValueTensorInitializer(["emerson", "lake", "palmer"], tf.constant([0, 1, 2], tf.int64))
    table = L.StaticVocabularyTable(init, 5)
    ids = table.lookup(tf.constant(["emerson", "lake", "palmer", "king", "crimson", ""]))
    assert ids.numpy().tolist() == [0, 1, 2, 6, 7, 6] and ids.dtype == tf.int64  # TensorFlow's ids
    assert int(table.size()) == 8
    ints = L.StaticVocabularyTable(L.KeyValueTensorInitializer(tf.constant([10, 20], tf.int64),
                                                               tf.constant([0, 1], tf.int64)), 3)
    assert ints.lookup(tf.constant([10, 20, 7, 8, -1], tf.int64)).numpy().tolist() == [0, 1, 3, 3, 2]
    with pytest.raises(TypeError, match=r"^Invalid `value_dtype`, expected <dtype: 'int64'> but got "
                                        r"<dtype: 'int32'>\.$"):
        L.StaticVocabularyTable(L.KeyValueTensorInitializer(["a"], [0]), 2)
    with pytest.raises(ValueError, match="^`num_oov_buckets` must be > 0; use StaticHashTable.$"):
        L.StaticVocabularyTable(init, 0)


def test_text_file_initializer(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("emerson\nlake\npalmer\n")
    pairs = tmp_path / "kv.txt"
    pairs.write_text("a\t10\nb\t20\n")
    assert (L.TextFileIndex.WHOLE_LINE, L.TextFileIndex.LINE_NUMBER) == (-2, -1)
    init = L.TextFileInitializer(str(vocab), tf.string, L.TextFileIndex.WHOLE_LINE, tf.int64,
                                 L.TextFileIndex.LINE_NUMBER)
    assert L.StaticHashTable(init, -1).lookup(tf.constant(["lake", "x"])).numpy().tolist() == [1, -1]
    kv = L.StaticHashTable(L.TextFileInitializer(str(pairs), tf.string, 0, tf.int64, 1), -1)
    assert kv.lookup(tf.constant(["b", "x"])).numpy().tolist() == [20, -1]
    first_two = L.TextFileInitializer(str(vocab), tf.string, -2, tf.int64, -1, vocab_size=2)
    assert L.StaticHashTable(first_two, -1).lookup(tf.constant(["palmer", "lake"])).numpy().tolist() == [-1, 1]
    shifted = L.TextFileInitializer(str(vocab), tf.string, -2, tf.int64, -1, value_index_offset=3)
    assert L.StaticHashTable(shifted, -1).lookup(tf.constant(["lake"])).numpy().tolist() == [4]
    oov = L.StaticVocabularyTable(L.TextFileInitializer(str(vocab), tf.string, -2, tf.int64, -1), 1)
    assert oov.lookup(tf.constant(["palmer", "zz"])).numpy().tolist() == [2, 3]
    for call, error, message in [
        (lambda: L.TextFileInitializer(str(vocab), tf.string, -2, tf.int64, -1, vocab_size=5),
         tf.errors.InvalidArgumentError, f"Invalid vocab_size in {vocab}: expected 5 but got 3"),
        (lambda: L.TextFileInitializer(str(tmp_path / "nope.txt"), tf.string, -2, tf.int64, -1),
         tf.errors.NotFoundError, f"{tmp_path / 'nope.txt'}; No such file or directory"),
        (lambda: L.TextFileInitializer(str(pairs), tf.string, 0, tf.int64, 3), tf.errors.InvalidArgumentError,
         f"Invalid number of columns in {pairs} line 0 (a\t10) : expected at least 4 got 2"),
    ]:
        with pytest.raises(error) as info:
            L.StaticHashTable(call(), -1)
        assert str(info.value) == message


def test_mutable_hash_table():
    table = L.experimental.MutableHashTable(tf.string, tf.int64, -1)
    table.insert(tf.constant(["a", "b"]), tf.constant([1, 2], tf.int64))
    assert table.lookup(tf.constant(["a", "c"])).numpy().tolist() == [1, -1]
    table.remove(tf.constant(["a", "zz"]))
    assert table.lookup(tf.constant(["a", "b"])).numpy().tolist() == [-1, 2] and int(table.size()) == 1
    assert [t.numpy().tolist() for t in table.export()] == [[b"b"], [2]]
    dynamic = table.lookup(tf.constant(["a", "b"]), dynamic_default_values=tf.constant([7, 8], tf.int64))
    assert dynamic.numpy().tolist() == [7, 2]
    with pytest.raises(TypeError):
        table.insert(tf.constant(["a"]), tf.constant([1.5]))
    vectors = L.experimental.MutableHashTable(tf.int64, tf.float32, [0.0, 0.0])
    vectors.insert(tf.constant([1], tf.int64), tf.constant([[1.0, 2.0]]))
    np.testing.assert_array_equal(vectors.lookup(tf.constant([1, 3], tf.int64)).numpy(), [[1, 2], [0, 0]])


def test_dense_hash_table():
    table = L.experimental.DenseHashTable(tf.int64, tf.int64, default_value=-1, empty_key=0, deleted_key=-1)
    table.insert(tf.constant([1, 2, 3], tf.int64), tf.constant([10, 20, 30], tf.int64))
    assert table.lookup(tf.constant([1, 5], tf.int64)).numpy().tolist() == [10, -1]
    table.erase(tf.constant([1], tf.int64))
    assert table.lookup(tf.constant([1, 2], tf.int64)).numpy().tolist() == [-1, 20] and int(table.size()) == 2
    with pytest.raises(tf.errors.InvalidArgumentError, match="^Using the empty_key as a table key is not allowed$"):
        table.insert(tf.constant([0], tf.int64), tf.constant([1], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="^Using the deleted_key as a table key is not allowed$"):
        table.lookup(tf.constant([-1], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="^Empty and deleted keys cannot be equal$"):
        L.experimental.DenseHashTable(tf.int64, tf.int64, -1, 0, 0)
