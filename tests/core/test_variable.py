"""Variable: construction, in-place updates, reads, names, trainability."""

import numpy as np
import pytest

import featherflow as ff


def test_construction_and_attributes():
    v = ff.Variable([1.0, 2.0], name="w")
    assert v.name == "w" and v.trainable and v.dtype == ff.float32 and v.shape == (2,)
    assert ff.Variable(1.0).name == "Variable"
    assert not ff.Variable(1.0, trainable=False).trainable
    assert ff.Variable(lambda: ff.zeros((2,))).shape == (2,)
    with pytest.raises(ValueError, match="initial value"):
        ff.Variable(None)
    with pytest.raises(ValueError, match="shape"):
        ff.Variable([1.0, 2.0], shape=(3,))


def test_dtype_conversion_is_exact_for_python_data():
    v = ff.Variable(0.1, dtype="float64")
    assert v.dtype == ff.float64 and float(v) == 0.1
    assert ff.Variable(ff.constant([1.0]), dtype="float64").dtype == ff.float64
    assert ff.Variable([1, 2], dtype="float32").numpy().tolist() == [1.0, 2.0]


def test_initial_value_is_copied():
    source = np.array([1.0, 2.0], dtype="float32")
    v = ff.Variable(source)
    source[0] = 9.0
    assert v.numpy().tolist() == [1.0, 2.0]


def test_assign_family_updates_in_place():
    v = ff.Variable([1.0, 2.0])
    buffer = v.value
    assert v.assign([3.0, 4.0]) is v
    v.assign_add([1.0, 1.0])
    v.assign_sub(ff.constant([0.5, 0.5]))
    assert v.value is buffer  # never rebound: optimizers keep views into flat buffers
    np.testing.assert_array_equal(v.numpy(), [3.5, 4.5])
    with pytest.raises(ValueError, match="Cannot assign a value of shape \\(3,\\) to variable 'Variable'"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="assign_add"):
        v.assign_add([1.0])


def test_read_value_and_numpy_are_snapshots():
    v = ff.Variable([1.0, 2.0])
    snapshot = v.read_value()
    array = v.numpy()
    plus = v + 0.0
    v.assign([5.0, 5.0])
    assert snapshot.numpy().tolist() == [1.0, 2.0] and array.tolist() == [1.0, 2.0]
    assert plus.numpy().tolist() == [1.0, 2.0]
    assert isinstance(snapshot, ff.Tensor) and not isinstance(snapshot, ff.Variable)


def test_repr_like_tensorflow():
    assert repr(ff.Variable([1.0, 2.0], name="w")) == \
        "<tf.Variable 'w:0' shape=(2,) dtype=float32, numpy=array([1., 2.], dtype=float32)>"
    assert repr(ff.Variable(1.0)) == "<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=1.0>"


def test_trainable_setter_controls_auto_watch():
    v = ff.Variable(2.0)
    v.trainable = False
    with ff.GradientTape() as tape:
        y = v * v
    assert tape.gradient(y, v) is None
    v.trainable = True
    with ff.GradientTape() as tape:
        y = v * v
    assert float(tape.gradient(y, v)) == 4.0


def test_constraint_must_be_callable():
    with pytest.raises(ValueError, match="constraint"):
        ff.Variable(1.0, constraint=3)
    v = ff.Variable(1.0, constraint=lambda x: x)
    assert callable(v.constraint)


def test_deepcopy_is_independent():
    import copy

    v = ff.Variable([1.0], name="k")
    w = copy.deepcopy(v)
    w.assign([2.0])
    assert v.numpy().tolist() == [1.0] and w.name == "k"


def test_numpy_conversion_is_a_snapshot_unless_asked_for_a_view():
    v = ff.Variable([1.0, 2.0])
    arr = np.asarray(v)
    arr[0] = 9.0
    assert v.numpy().tolist() == [1.0, 2.0]
    view = np.asarray(v, copy=False)
    view[0] = 5.0
    assert v.numpy().tolist() == [5.0, 2.0]
    assert np.asarray(v, dtype="float64").dtype == np.float64


def test_sliced_assignment_writes_the_slice_in_place():
    # values from TensorFlow 2.21
    v = ff.Variable([1.0, 2.0, 3.0])
    assert v[1:].assign([5.0, 6.0]) is v and v.numpy().tolist() == [1.0, 5.0, 6.0]
    v[::2].assign([7.0, 8.0])
    assert v.numpy().tolist() == [7.0, 5.0, 8.0]
    m = ff.Variable([[1.0, 2.0], [3.0, 4.0]])
    m[0, 1].assign(9.0)
    m[:, 0].assign(0.0)  # broadcast, as TensorFlow's strided-slice assignment does
    assert m.numpy().tolist() == [[0.0, 9.0], [0.0, 4.0]]
    with pytest.raises(ff.errors.InvalidArgumentError, match=r"shape \(2,\) to the slice of shape \(\)"):
        v[0].assign([1.0, 2.0])
    with ff.GradientTape() as tape:  # the slice is still an ordinary differentiable read
        y = ff.reduce_sum(v[1:] * 2.0)
    assert tape.gradient(y, v).numpy().tolist() == [0.0, 2.0, 2.0]


def test_scatter_updates_and_sparse_reads():
    v = ff.Variable([1.0, 2.0, 3.0])
    assert v.scatter_nd_add([[0], [0]], [1.0, 1.0]).numpy().tolist() == [3.0, 2.0, 3.0]  # repeats accumulate
    assert v.scatter_max(ff.IndexedSlices(ff.constant([10.0]), ff.constant([2]))).numpy().tolist() == [3.0, 2.0, 10.0]
    m = ff.Variable([[1.0, 2.0], [3.0, 4.0]])
    m.scatter_update(ff.IndexedSlices(ff.constant([[7.0, 7.0]]), ff.constant([1])))
    m.scatter_nd_update([[0, 1]], [9.0])
    m.scatter_nd_sub([[1]], [[1.0, 1.0]])
    assert m.numpy().tolist() == [[1.0, 9.0], [6.0, 6.0]]
    i = ff.Variable([1, 2, 7])
    assert i.scatter_div(ff.IndexedSlices(ff.constant([2]), ff.constant([2]))).numpy().tolist() == [1, 2, 3]
    assert i.scatter_mul(ff.IndexedSlices(ff.constant([2, 3]), ff.constant([0, 0]))).numpy().tolist() == [6, 2, 3]
    assert i.scatter_min(ff.IndexedSlices(ff.constant([0]), ff.constant([1]))).numpy().tolist() == [6, 0, 3]
    j = ff.Variable([-7, 7])  # integer division truncates toward zero
    assert j.scatter_div(ff.IndexedSlices(ff.constant([2, -2]), ff.constant([0, 1]))).numpy().tolist() == [-3, -3]
    with pytest.raises(ff.errors.InvalidArgumentError, match=r"indices = \[5\] does not index into shape \[3\]"):
        v.scatter_nd_update([[5]], [1.0])
    with pytest.raises(ff.errors.InvalidArgumentError, match=r"index 9 is not in \[0, 3\)"):
        v.scatter_update(ff.IndexedSlices(ff.constant([1.0]), ff.constant([9])))
    with pytest.raises(TypeError, match="`sparse_delta` must be a `tf.IndexedSlices`"):
        v.scatter_update([1.0])
    with ff.GradientTape() as tape:
        y = ff.reduce_sum(v.sparse_read([2, 2])) + ff.reduce_sum(v.gather_nd([[0]]))
    assert v.sparse_read([2, 0]).numpy().tolist() == [10.0, 3.0]
    assert ff.convert_to_tensor(tape.gradient(y, v)).numpy().tolist() == [1.0, 0.0, 2.0]


def test_synchronization_and_aggregation_are_kept():
    v = ff.Variable(1.0)
    assert v.synchronization == ff.VariableSynchronization.AUTO and v.aggregation == ff.VariableAggregation.NONE
    on_read = ff.Variable(0.0, synchronization=ff.VariableSynchronization.ON_READ,
                          aggregation=ff.VariableAggregation.SUM)
    assert on_read.trainable is False  # TensorFlow's default for ON_READ variables
    assert on_read.aggregation == ff.VariableAggregation.SUM
    assert ff.Variable(0.0, synchronization=ff.VariableSynchronization.ON_READ, trainable=True).trainable
