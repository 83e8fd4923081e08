"""tf.sparse: every op against the same computation on the dense NumPy array, and gradients w.r.t. values."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff

S = ff.sparse


def _example(values=None, dtype="float64"):
    indices = np.array([[0, 1], [1, 0], [1, 2], [3, 3]])
    values = np.array([1.0, -2.0, 3.0, 4.0], dtype) if values is None else values
    return S.SparseTensor(indices, ff.constant(values), [4, 4])


def _dense(st):
    return S.to_dense(st).numpy()


def test_conversions_and_structure():
    st = _example()
    dense = _dense(st)
    assert dense[1, 2] == 3.0 and dense.sum() == 6.0 and st.shape == (4, 4) and st.dtype == ff.float64
    back = S.from_dense(dense)
    np.testing.assert_array_equal(back.indices.numpy(), st.indices.numpy())
    np.testing.assert_array_equal(_dense(S.reorder(S.SparseTensor([[1, 0], [0, 1]], [1.0, 2.0], [2, 2]))),
                                  [[0, 2], [1, 0]])
    np.testing.assert_array_equal(_dense(S.reshape(st, [2, 8])), dense.reshape(2, 8))
    np.testing.assert_array_equal(_dense(S.transpose(st)), dense.T)
    np.testing.assert_array_equal(_dense(S.expand_dims(st, 1)), dense[:, None])
    np.testing.assert_array_equal(_dense(S.slice(st, [1, 0], [2, 3])), dense[1:3, 0:3])
    np.testing.assert_array_equal(_dense(S.concat(1, [st, st])), np.concatenate([dense, dense], 1))
    parts = S.split(st, 3, axis=0)
    np.testing.assert_array_equal(np.concatenate([_dense(p) for p in parts]), dense)
    np.testing.assert_array_equal(_dense(S.retain(st, [True, False, True, False])),
                                  np.where(np.isin(dense, [1.0, 3.0]), dense, 0))
    assert S.reset_shape(st).dense_shape.numpy().tolist() == [4, 4]
    with pytest.raises(ValueError, match="new_shape"):
        S.reset_shape(st, [2, 2])
    filled, empty = S.fill_empty_rows(st, -1.0)
    assert empty.numpy().tolist() == [False, False, True, False] and _dense(filled)[2, 0] == -1.0
    np.testing.assert_array_equal(_dense(S.eye(3, 4)), np.eye(3, 4))
    np.testing.assert_array_equal(_dense(S.map_values(ff.square, st)), dense ** 2)
    with pytest.raises(ff.errors.InvalidArgumentError, match="repeated"):
        S.to_dense(S.SparseTensor([[0], [0]], [1.0, 2.0], [2]))
    assert _dense(S.SparseTensor([[1]], ff.constant(["b"]), [2])).tolist() == [b"", b"b"]


def test_arithmetic_and_reductions():
    a, dense = _example(), _dense(_example())
    b = S.SparseTensor([[0, 1], [2, 2]], ff.constant([5.0, -1.0], "float64"), [4, 4])
    np.testing.assert_array_equal(_dense(S.add(a, b)), dense + _dense(b))
    np.testing.assert_array_equal(S.add(a, ff.ones((4, 4), "float64")).numpy(), dense + 1)
    np.testing.assert_array_equal(_dense(S.maximum(a, b)), np.maximum(dense, _dense(b)))
    np.testing.assert_array_equal(_dense(S.minimum(a, b)), np.minimum(dense, _dense(b)))
    np.testing.assert_array_equal(S.reduce_sum(a, axis=1).numpy(), dense.sum(1))
    np.testing.assert_array_equal(S.reduce_sum(a, axis=0, keepdims=True).numpy(), dense.sum(0, keepdims=True))
    assert float(S.reduce_sum(a)) == dense.sum()
    np.testing.assert_array_equal(S.reduce_max(a, axis=1).numpy(), [1.0, 3.0, 0.0, 4.0])  # present entries only
    soft = _dense(S.softmax(a))
    np.testing.assert_allclose(soft[1, [0, 2]], np.exp([-2.0, 3.0]) / np.exp([-2.0, 3.0]).sum())
    matrix = random_array((4, 3), seed=1)
    np.testing.assert_allclose(S.sparse_dense_matmul(a, matrix).numpy(), dense @ matrix)
    np.testing.assert_allclose(S.sparse_dense_matmul(a, matrix.T, adjoint_a=True, adjoint_b=True).numpy(),
                               dense.T @ matrix)
    np.testing.assert_allclose(S.sparse_dense_matmul(matrix.T, a).numpy(), matrix.T @ dense)
    _, values, _ = S.sampled_addmm([[0, 0], [1, 1]], [1.0, 2.0], [2, 2], ff.ones((2, 3)), ff.ones((3, 2)))
    assert values.numpy().tolist() == [4.0, 5.0]
    data = random_array((3, 2), seed=2)
    np.testing.assert_allclose(S.segment_sum(data, [0, 2, 2], [0, 0, 1]).numpy(), [data[0] + data[2], data[2]])
    np.testing.assert_allclose(S.segment_mean(data, [0, 2], [0, 0]).numpy(), [(data[0] + data[2]) / 2])
    np.testing.assert_allclose(S.segment_sqrt_n(data, [0, 2], [1, 1], num_segments=3).numpy()[1],
                               (data[0] + data[2]) / np.sqrt(2))
    counts = S.bincount(ff.constant([[1, 1, 3], [2, 2, 0]]), axis=-1)
    assert _dense(counts).tolist() == [[0, 2, 0, 1], [1, 0, 2, 0]]
    ids = S.SparseTensor([[0, 0], [0, 1]], ff.constant([1, 3], "int64"), [1, 2])
    assert S.to_indicator(ids, 4).numpy().tolist() == [[False, True, False, True]]
    rows = ff.IndexedSlices(ff.constant([[1.0], [2.0]]), ff.constant([0, 5]))
    assert S.mask(rows, [5]).indices.numpy().tolist() == [0]


def test_gradients_flow_to_values_and_dense_operands():
    indices = np.array([[0, 1], [1, 0], [1, 2], [3, 3]])
    matrix = random_array((4, 3), seed=3)

    def through(values, m):
        st = S.SparseTensor(indices, values, [4, 4])
        return [S.sparse_dense_matmul(st, m), S.to_dense(S.softmax(st)), S.reduce_sum(st, axis=0),
                S.to_dense(S.add(st, st))]

    check_gradient(through, [random_array((4,), seed=4), matrix])


def test_edit_distance():
    hyp = S.SparseTensor([[0, 0], [0, 1], [1, 0]], ff.constant([1, 2, 3]), [2, 2])
    truth = S.SparseTensor([[0, 0], [0, 1], [0, 2], [1, 0]], ff.constant([1, 5, 2, 3]), [2, 3])
    np.testing.assert_allclose(ff.edit_distance(hyp, truth).numpy(), [1 / 3, 0.0])
    np.testing.assert_allclose(ff.edit_distance(hyp, truth, normalize=False).numpy(), [1.0, 0.0])
    empty_truth = S.SparseTensor(np.zeros((0, 2), np.int64), ff.constant(np.zeros(0, np.int32)), [2, 2])
    assert np.isinf(ff.edit_distance(hyp, empty_truth).numpy()).all()


def test_from_dense_drops_empty_strings():
    st = ff.sparse.from_dense(ff.constant([["a", "b"], ["c", ""]]))
    np.testing.assert_array_equal(st.indices.numpy(), [[0, 0], [0, 1], [1, 0]])


def test_cross_joins_every_combination_per_row():
    st = ff.sparse.from_dense(ff.constant([["a", "b"], ["c", ""]]))
    out = ff.sparse.cross([st, ff.constant([["d"], ["e"]]), ff.constant([[1, 2], [3, 4]], "int64")])
    assert out.values.numpy().tolist() == [b"a_X_d_X_1", b"a_X_d_X_2", b"b_X_d_X_1", b"b_X_d_X_2", b"c_X_e_X_3",
                                           b"c_X_e_X_4"]
    np.testing.assert_array_equal(out.indices.numpy(), [[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1]])
    np.testing.assert_array_equal(out.dense_shape.numpy(), [2, 4])
    assert ff.sparse.cross([st, ff.constant([["d"], ["e"]])], separator="|").values.numpy().tolist() == \
        [b"a|d", b"b|d", b"c|e"]
    empty_row = ff.sparse.cross([ff.sparse.from_dense(ff.constant([[1, 0], [0, 0]], "int64")),
                                 ff.constant([["x"], ["y"]])])
    assert empty_row.values.numpy().tolist() == [b"1_X_x"] and empty_row.dense_shape.numpy().tolist() == [2, 1]


def test_cross_hashed_matches_tensorflow_buckets():
    st = ff.sparse.from_dense(ff.constant([["a", "b"], ["c", ""]]))
    ints = ff.constant([[7], [-3]], "int64")
    # TensorFlow 2.21's values (FarmHash fingerprints combined by FingerprintCat64)
    assert ff.sparse.cross_hashed([st, ff.constant([["d"], ["e"]])], num_buckets=100).values.numpy().tolist() == \
        [82, 54, 41]
    assert ff.sparse.cross_hashed([st, ints]).values.numpy().tolist() == \
        [3509787333349122856, 443223928722139976, 1833014433321465772]
    assert ff.sparse.cross_hashed([st, ints], num_buckets=1000, hash_key=12345).values.numpy().tolist() == \
        [880, 232, 656]


def test_bincount_of_sparse_tensors_counts_stored_values_per_row():
    # values from TensorFlow 2.21 (a SparseTensor with axis=-1 crashed here; explicit zeros were skipped)
    ids = S.SparseTensor([[0, 0], [0, 1], [1, 0], [1, 2]], ff.constant([0, 2, 0, 5], "int64"), [2, 3])
    counts = S.bincount(ids, axis=-1)
    assert counts.values.dtype == ff.int64
    assert _dense(counts).tolist() == [[1, 0, 1, 0, 0, 0], [1, 0, 0, 0, 0, 1]]
    assert _dense(S.bincount(ids, axis=-1, minlength=7)).tolist() == [[1, 0, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 1, 0]]
    assert _dense(S.bincount(ids, axis=0)).tolist() == [2, 0, 1, 0, 0, 1]
    weights = S.SparseTensor([[0, 0], [0, 1], [1, 0], [1, 2]], [1.0, 2.0, 3.0, 4.0], [2, 3])
    weighted = S.bincount(ids, weights=weights, axis=-1)
    assert weighted.values.dtype == ff.float32
    assert _dense(weighted).tolist() == [[1.0, 0.0, 2.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, 0.0, 0.0, 4.0]]
    assert _dense(S.bincount(ff.constant([[1, 2, 2], [0, 0, 3]], "int64"))).tolist() == [2, 1, 2, 1]
    assert _dense(S.bincount(ff.constant([1, 2, 2, 7]), maxlength=3)).tolist() == [0, 1, 2]
    assert _dense(S.bincount(ff.constant([1, 2, 2]), binary_output=True)).tolist() == [0, 1, 1]
