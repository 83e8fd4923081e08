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
