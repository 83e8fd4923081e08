"""The Tensor API: attributes, NumPy interop, operators, indexing, repr, constructors."""

import copy
import pickle

import numpy as np
import pytest

import featherflow as ff


def test_attributes_and_numpy_copy():
    t = ff.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.shape.as_list() == [2, 3] and t.shape.rank == 2
    assert t.get_shape() == (2, 3) and t.shape.num_elements() == 6
    assert t.dtype == ff.float32 and t.ndim == 2 and len(t) == 2
    arr = t.numpy()
    arr[0, 0] = 100.0  # numpy() is a copy, as in TensorFlow
    assert t.numpy()[0, 0] == 1.0
    assert isinstance(t.numpy(), np.ndarray)


def test_tensor_shape_behaves_like_a_tuple():
    s = ff.TensorShape([2, None, 3])
    assert s == (2, None, 3) and s.as_list() == [2, None, 3] and s.num_elements() is None
    assert not s.is_fully_defined() and ff.TensorShape([2, 3]).is_fully_defined()
    assert s.is_compatible_with((2, 5, 3)) and not s.is_compatible_with((3, 5, 3))
    assert repr(ff.ones((2, 3)).shape) == "(2, 3)"
    assert pickle.loads(pickle.dumps(ff.ones((4,)).shape)) == (4,)
    assert np.zeros(ff.ones((2, 3)).shape).shape == (2, 3)


def test_numpy_interop():
    t = ff.constant([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0, 3.0])
    assert np.asarray(t).dtype == np.float32
    assert np.asarray(t, dtype="float64").dtype == np.float64
    assert float(np.sum(t)) == 6.0
    np.testing.assert_allclose(np.exp(t), np.exp([1.0, 2.0, 3.0]), rtol=1e-6)
    assert np.array(t).shape == (3,)
    np.testing.assert_array_equal(np.concatenate([t, t]), [1, 2, 3, 1, 2, 3])


@pytest.mark.parametrize("op,expected", [
    (lambda a, t: a + t, [2.0, 3.0, 4.0]), (lambda a, t: a - t, [0.0, -1.0, -2.0]),
    (lambda a, t: a * t, [1.0, 2.0, 3.0]), (lambda a, t: a / t, [1.0, 0.5, 1 / 3]),
    (lambda a, t: a ** t, [1.0, 1.0, 1.0]), (lambda a, t: a < t, [False, True, True]),
    (lambda a, t: a >= t, [True, False, False]), (lambda a, t: a == t, [True, False, False]),
])
def test_numpy_array_on_the_left_gives_a_tensor(op, expected):
    t = ff.constant([1.0, 2.0, 3.0])
    out = op(np.ones(3), t)
    assert isinstance(out, ff.Tensor)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert out.dtype in (ff.float32, ff.bool)  # the NumPy float64 operand adopts the tensor's dtype


def test_reflected_matmul_with_numpy():
    out = np.ones((2, 3)) @ ff.ones((3, 1))
    assert isinstance(out, ff.Tensor)
    np.testing.assert_array_equal(out.numpy(), [[3.0], [3.0]])


def test_comparisons_and_logical_operators():
    a = ff.constant([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((a > 1.5).numpy(), [False, True, True])
    np.testing.assert_array_equal((a <= 2.0).numpy(), [True, True, False])
    np.testing.assert_array_equal((a != 2.0).numpy(), [True, False, True])
    m = a > 1.5
    np.testing.assert_array_equal((m & (a < 3.0)).numpy(), [False, True, False])
    np.testing.assert_array_equal((m | (a < 1.5)).numpy(), [True, True, True])
    np.testing.assert_array_equal((m ^ (a > 0.0)).numpy(), [True, False, False])
    np.testing.assert_array_equal((~m).numpy(), [True, False, False])
    assert (a == None) is False and (a != None) is True  # noqa: E711 - TensorFlow's behaviour
    assert bool(a == ff.ones((2,))) is False  # shapes that do not broadcast compare unequal
    with pytest.raises(TypeError, match="logical_and: argument `x` must be a boolean"):
        _ = a & a


def test_bitwise_operators_on_integer_tensors():
    # TensorFlow: & | ^ ~ are logical on bool tensors and bitwise on integer tensors (values from TF 2.21)
    a = ff.constant([7, -7, 0, 5])
    assert (a & ff.constant([2, 2, 3, -3])).numpy().tolist() == [2, 0, 0, 5]
    assert (a | 3).numpy().tolist() == [7, -5, 3, 7]
    assert (3 ^ a).numpy().tolist() == [4, -6, 3, 6]
    assert (~a).numpy().tolist() == [-8, 6, -1, -6]
    assert (ff.constant([200], "uint8") & 15).numpy().tolist() == [8]
    assert (True & ff.constant([True, False])).numpy().tolist() == [True, False]


def test_string_tensors_compare_and_select_with_python_strings():
    labels = ff.constant(["cat", "dog", "cat"])
    assert (labels == "cat").numpy().tolist() == [True, False, True]
    assert (labels != b"dog").numpy().tolist() == [True, False, True]
    assert ff.equal(labels, np.array(["cat", "cat", "dog"])).numpy().tolist() == [True, False, False]
    assert ff.where(labels == "cat", labels, "other").numpy().tolist() == [b"cat", b"other", b"cat"]
    assert ff.where([True, False], "p", "q").numpy().tolist() == [b"p", b"q"]
    assert (labels + "!").numpy().tolist() == [b"cat!", b"dog!", b"cat!"]
    with pytest.raises(TypeError, match="strings are not supported"):
        ff.multiply(labels, "x")
    with pytest.raises(TypeError, match="equal: invalid argument `y`: the other operand is a string tensor"):
        ff.equal(labels, 1)
    with pytest.raises(TypeError, match="add: invalid argument `y`: the other operand is a string tensor"):
        ff.add("abc", 1.0)


def test_comparison_ops_functional_and_where():
    x, y = np.array([1.0, 5.0, 3.0]), np.array([2.0, 5.0, 1.0])
    for name, ref in [("equal", np.equal), ("not_equal", np.not_equal), ("less", np.less),
                      ("less_equal", np.less_equal), ("greater", np.greater), ("greater_equal", np.greater_equal)]:
        np.testing.assert_array_equal(getattr(ff.math, name)(x, y).numpy(), ref(x, y))
    np.testing.assert_array_equal(ff.math.logical_xor([True, False], [True, True]).numpy(), [False, True])
    np.testing.assert_array_equal(ff.where([True, False, True], x, y).numpy(), [1.0, 5.0, 3.0])
    np.testing.assert_array_equal(ff.where([[True, False], [False, True]]).numpy(), [[0, 0], [1, 1]])
    with pytest.raises(ValueError, match="where: `x` and `y` must both be given"):
        ff.where([True], x)
    with pytest.raises(ValueError, match="equal: incompatible shapes"):
        ff.equal(ff.ones((3,)), ff.ones((2,)))


def test_where_gradient_with_broadcasting():
    from gradcheck import check_gradient, random_array

    cond = random_array((3, 4), seed=5) > 0
    check_gradient(lambda a, b: ff.where(cond, a, b), [random_array((3, 4)), random_array((4,), seed=1)])
    check_gradient(lambda a, b: ff.where(cond[0], a, b), [random_array((2, 4)), random_array((), seed=1)])


def test_tensor_shape_merges_checks_ranks_and_slices_to_a_shape():
    # messages and values from TensorFlow 2.21
    s = ff.TensorShape([None, 3])
    assert s.merge_with([2, None]) == (2, 3) and s.most_specific_compatible_shape([4, 5]) == (None, None)
    assert s.with_rank(2) is s and s.with_rank_at_least(1) is s and s.with_rank_at_most(3) is s
    assert s.is_subtype_of([None, 3]) and ff.TensorShape([2, 3]).is_subtype_of(s) and not s.is_subtype_of([2, 3])
    assert s[1:].as_list() == [3] and isinstance(s[1:], ff.TensorShape) and s[0] is None and s[-1] == 3
    s.assert_is_compatible_with([1, 3])
    s.assert_has_rank(2)
    for call, message in [(lambda: s.merge_with([2, 4]), r"Shapes \(None, 3\) and \(2, 4\) are not compatible"),
                          (lambda: s.with_rank(3), r"Shape \(None, 3\) must have rank 3"),
                          (lambda: s.with_rank_at_least(3), "must have rank at least 3"),
                          (lambda: s.with_rank_at_most(1), "must have rank at most 1"),
                          (lambda: s.assert_is_compatible_with([1, 4]), r"and \[1, 4\] are incompatible"),
                          (lambda: s.assert_is_fully_defined(), "is not fully defined"),
                          (lambda: s.assert_same_rank([1]), "must have the same rank")]:
        with pytest.raises(ValueError, match=message):
            call()


def test_getitem_len_iter_and_scalars():
    t = ff.constant([[1, 2], [3, 4]])
    assert t[1, 0].numpy() == 3 and t[1, 0].shape == ()
    np.testing.assert_array_equal(t[:, -1].numpy(), [2, 4])
    np.testing.assert_array_equal(t[ff.newaxis].shape, (1, 2, 2))
    rows = [r.numpy().tolist() for r in t]
    assert rows == [[1, 2], [3, 4]]
    assert len(ff.zeros((5, 2))) == 5
    with pytest.raises(TypeError, match="len"):
        len(ff.constant(1.0))
    assert int(ff.constant(7)) == 7 and float(ff.constant(2.5)) == 2.5
    assert [10, 20, 30][ff.constant(1)] == 20  # __index__
    with pytest.raises(ValueError, match="ambiguous"):
        bool(ff.constant([1.0, 2.0]))


def test_repr_and_str_like_tensorflow():
    assert repr(ff.constant([1.0, 2.0])) == \
        "<tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], dtype=float32)>"
    assert repr(ff.constant(1.0)) == "<tf.Tensor: shape=(), dtype=float32, numpy=1.0>"
    assert repr(ff.constant(3)) == "<tf.Tensor: shape=(), dtype=int32, numpy=3>"
    assert repr(ff.constant([[True]])) == "<tf.Tensor: shape=(1, 1), dtype=bool, numpy=array([[ True]])>"
    assert str(ff.constant([1.0, 2.0])) == "tf.Tensor([1. 2.], shape=(2,), dtype=float32)"


def test_hash_ref_copy_and_pickle_free_identity():
    t = ff.constant([1.0])
    assert len({t, t}) == 1 and t.ref().deref() is t and t.ref() == t.ref()
    assert copy.copy(t) is t
    deep = copy.deepcopy(t)
    assert deep is not t and deep.numpy().tolist() == [1.0]
    assert ff.is_tensor(t) and not ff.is_tensor(np.ones(2))


def test_tensors_never_hold_numpy_scalars():
    product = ff.constant(2.0) * ff.constant(3.0)
    assert isinstance(product.value, np.ndarray) and product.value.shape == ()
    v = ff.Variable(product)
    v.assign(1.0)
    assert float(v) == 1.0


def test_convert_to_tensor_rules():
    assert ff.convert_to_tensor(1.5).dtype == ff.float32
    assert ff.convert_to_tensor(2).dtype == ff.int32
    assert ff.convert_to_tensor(True).dtype == ff.bool
    assert ff.convert_to_tensor(2**40).dtype == ff.int64
    assert ff.convert_to_tensor([1, 2**40]).numpy().tolist() == [1, 2**40]
    assert ff.convert_to_tensor(np.float64(1.0)).dtype == ff.float64
    assert ff.convert_to_tensor(np.arange(3, dtype="int16")).dtype == ff.int16
    assert ff.convert_to_tensor([1, 2], dtype_hint="float32").dtype == ff.float32
    assert ff.convert_to_tensor(range(3)).numpy().tolist() == [0, 1, 2]
    t = ff.constant([1.0])
    assert ff.convert_to_tensor(t) is t
    with pytest.raises(ValueError, match="requested dtype float64 for Tensor with dtype float32"):
        ff.convert_to_tensor(t, dtype="float64")
    with pytest.raises(TypeError, match="Can't convert float data to the integer dtype int32"):
        ff.convert_to_tensor(np.array([1.5]), dtype="int32")


def test_constructors():
    np.testing.assert_array_equal(ff.constant(2.0, shape=(2, 2)).numpy(), np.full((2, 2), 2.0))
    np.testing.assert_array_equal(ff.constant([1, 2, 3, 4], shape=(2, 2)).numpy(), [[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="constant: expected 6 elements"):
        ff.constant([1, 2], shape=(2, 3))
    assert ff.constant([1, 2], dtype="float64").dtype == ff.float64
    assert ff.zeros((2, 3)).dtype == ff.float32 and ff.zeros(3).shape == (3,)
    assert ff.ones([2], dtype="int32").numpy().tolist() == [1, 1]
    base = ff.constant([[1, 2]])
    assert ff.zeros_like(base).dtype == ff.int32 and ff.ones_like(base, dtype="float32").dtype == ff.float32
    np.testing.assert_array_equal(ff.ones_like(base).numpy(), [[1, 1]])
    np.testing.assert_array_equal(ff.fill([2, 2], 7).numpy(), [[7, 7], [7, 7]])
    assert ff.fill([1], 0.5).dtype == ff.float32
    np.testing.assert_array_equal(ff.range(5).numpy(), np.arange(5))
    np.testing.assert_array_equal(ff.range(1, 10, 3).numpy(), [1, 4, 7])
    assert ff.range(0.0, 1.0, 0.25).dtype == ff.float32
    np.testing.assert_allclose(ff.range(0.0, 1.0, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    with pytest.raises(ValueError, match="delta"):
        ff.range(0, 5, 0)
    np.testing.assert_array_equal(ff.eye(2, 3).numpy(), np.eye(2, 3))
    assert ff.eye(2, batch_shape=[4]).shape == (4, 2, 2)
    with pytest.raises(ValueError, match="non-negative"):
        ff.zeros((-1, 2))
    with pytest.raises(TypeError, match="shape"):
        ff.zeros("abc")


def test_tensors_and_variables_pickle():
    t = ff.constant([1.0, 2.0])
    t._keras_mask = ff.constant([True, False])
    back = pickle.loads(pickle.dumps(t))
    np.testing.assert_array_equal(back.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(back._keras_mask.numpy(), [True, False])
    v = ff.Variable([3.0], name="w", trainable=False)
    w = pickle.loads(pickle.dumps(v))
    assert w.name == "w" and not w.trainable and w.numpy().tolist() == [3.0]
    w.assign([4.0])
    assert v.numpy().tolist() == [3.0]


def test_format_like_tensorflow():
    loss = ff.constant(0.123456)
    assert f"{loss:.3f}" == "0.123"
    assert f"{ff.constant([1.0, 2.0])}" == "[1. 2.]"
    assert format(ff.constant(7), "d") == "7"


def test_set_shape_checks_compatibility_as_an_eager_tensor_does():
    """TensorFlow's eager Tensor.set_shape: a compatible shape (None matches any size, None any rank) is accepted
    and changes nothing; an incompatible one is TensorFlow's ValueError (the time-series tutorial's split_window
    calls it inside Dataset.map)."""
    t = ff.zeros((3, 6, 6))
    for ok in ([None, 6, None], (3, 6, 6), [None, None, None], None):
        t.set_shape(ok)
        assert t.shape == (3, 6, 6)
    for bad in ([None, 5, None], [3, 6], [3, 6, 6, 1]):
        with pytest.raises(ValueError, match=r"Tensor's shape \(3, 6, 6\) is not compatible with supplied shape"):
            t.set_shape(bad)
