import numpy as np
import pytest

import featherflow as tf


def test_string_tensors_hold_utf8_bytes():
    t = tf.constant(["héllo", b"x"])
    assert t.dtype == tf.string and t.shape == (2,)
    assert t.numpy().tolist() == ["héllo".encode(), b"x"]
    assert tf.constant("a").numpy() == b"a"
    assert repr(tf.constant("a")) == "<tf.Tensor: shape=(), dtype=string, numpy=b'a'>"
    assert tf.constant(np.array([["a", "b"]])).shape == (1, 2)
    with pytest.raises(TypeError, match="expected numbers"):
        tf.constant([1.0, "a"])
    with pytest.raises(TypeError, match="strings are not supported"):
        tf.exp(["a"])


def test_elementwise_ops_keep_ragged_structure():
    words = tf.strings.split(["The Cat", "A"])
    lowered = tf.strings.lower(words)
    assert isinstance(lowered, tf.RaggedTensor)
    assert lowered.to_list() == [[b"the", b"cat"], [b"a"]]
    assert tf.strings.length(words).to_list() == [[3, 3], [1]]
    assert tf.strings.reduce_join(words, axis=-1, separator="+").numpy().tolist() == [b"The+Cat", b"A"]


def test_regex_follows_re2():
    # `$` is the end of the text (Python's would also match before a final newline)
    assert tf.strings.regex_replace(["ab\n"], "b$", "X").numpy()[0] == b"ab\n"
    assert tf.strings.regex_replace(["ab"], "b$", "X").numpy()[0] == b"aX"
    # \w is ASCII-only, `.` a whole code point
    assert tf.strings.regex_replace(["é1"], r"\w", "_").numpy()[0] == "é_".encode()
    assert tf.strings.regex_replace(["é"], r"^.$", "x").numpy()[0] == b"x"
    # the rewrite knows only \0-\9 and \\: a "\n" is an error, as in RE2
    with pytest.raises(ValueError, match="rewrite"):
        tf.strings.regex_replace(["a"], "a", r"\n")
    with pytest.raises(ValueError, match="group"):
        tf.strings.regex_replace(["a"], "a", r"\1")
    with pytest.raises(ValueError, match="not supported"):
        tf.strings.regex_replace(["a"], r"\p{L}", "")
    with pytest.raises(ValueError, match="invalid pattern"):
        tf.strings.regex_full_match(["a"], "(")


def test_argument_errors():
    with pytest.raises(TypeError, match="must hold strings"):
        tf.strings.lower([1, 2])
    with pytest.raises(ValueError, match="encoding"):
        tf.strings.unicode_split(["a"], "latin-9")
    with pytest.raises(ValueError, match="num_buckets"):
        tf.strings.to_hash_bucket_fast(["a"], 0)
    with pytest.raises(ValueError, match="key"):
        tf.strings.to_hash_bucket_strong(["a"], 3, key=1)
    with pytest.raises(ValueError, match="ngram_width"):
        tf.strings.ngrams([["a"]], 0)
    with pytest.raises(ValueError, match="placeholders"):
        tf.strings.format("{} {}", [tf.constant(1)])


def test_ragged_tensor_basics():
    rt = tf.ragged.constant([[1, 2, 3], [], [4]])
    assert rt.shape == (3, None) and rt.ragged_rank == 1
    assert rt.row_lengths().numpy().tolist() == [3, 0, 1]
    assert rt[0].numpy().tolist() == [1, 2, 3] and rt[-1].numpy().tolist() == [4]
    assert rt[1:].to_list() == [[], [4]]
    np.testing.assert_array_equal(rt.to_tensor().numpy(), [[1, 2, 3], [0, 0, 0], [4, 0, 0]])
    np.testing.assert_array_equal(rt.to_tensor(default_value=-1, shape=[None, 2]).numpy(), [[1, 2], [-1, -1], [4, -1]])
    # TensorFlow's dtypes for Python data (NumPy's int64/float64 before)
    assert rt.dtype == tf.int32 and tf.ragged.constant([[1.5], []]).dtype == tf.float32
    assert tf.ragged.constant([[], []]).dtype == tf.float32 and tf.ragged.constant([[1]], dtype="int64").dtype == tf.int64
    nested = tf.ragged.constant([[[1], [2, 3]], [[4]]])
    assert nested.ragged_rank == 2 and nested.flat_values.numpy().tolist() == [1, 2, 3, 4]
    assert tf.RaggedTensor.from_value_rowids([1, 2, 3], [0, 0, 2]).to_list() == [[1, 2], [], [3]]
    with pytest.raises(ValueError, match="row_splits"):
        tf.RaggedTensor.from_row_splits([1, 2], [0, 3])
    with pytest.raises(ValueError, match="factory"):
        tf.RaggedTensor([1], [0, 1])
