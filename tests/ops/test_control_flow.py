"""Control flow: values, TensorFlow's checks, and gradients (first and second order) through branches and loops."""

import collections

import numpy as np
import pytest
from gradcheck import check_gradient, check_second_order, random_array

import featherflow as ff


def test_cond_case_switch_case():
    x = ff.constant(2.0)
    assert float(ff.cond(x > 1.0, lambda: x * x, lambda: -x)) == 4.0
    assert float(ff.cond(False, lambda: 1.0, lambda: 2.0)) == 2.0
    with pytest.raises(ValueError, match="scalar"):
        ff.cond(ff.constant([True, False]), lambda: 1, lambda: 2)
    with pytest.raises(TypeError, match="true_fn must be callable"):
        ff.cond(True, 1, lambda: 2)
    n = ff.constant(5)
    pairs = [(n < 3, lambda: ff.constant(1)), (n < 9, lambda: ff.constant(2)), (n < 7, lambda: ff.constant(3))]
    assert int(ff.case(pairs)) == 2
    with pytest.raises(ff.errors.InvalidArgumentError, match="exclusive"):
        ff.case(pairs, exclusive=True)
    with pytest.raises(ff.errors.InvalidArgumentError, match="None of conditions"):
        ff.case([(n < 3, lambda: ff.constant(1))])
    assert int(ff.case([(n < 3, lambda: ff.constant(1))], default=lambda: ff.constant(9))) == 9
    branches = [lambda: ff.constant(10), lambda: ff.constant(20)]
    assert int(ff.switch_case(ff.constant(1), branches)) == 20
    assert int(ff.switch_case(ff.constant(7), branches)) == 20  # out of range: the last branch
    assert int(ff.switch_case(-1, branches, default=lambda: ff.constant(0))) == 0
    with pytest.raises(ValueError, match="contiguous range"):
        ff.switch_case(0, {1: lambda: 1, 3: lambda: 3})
    check_gradient(lambda a: ff.cond(ff.reduce_sum(a) > 0, lambda: ff.sin(a), lambda: a * a), [random_array((3,))])


def test_while_loop_structures_limits_and_gradient():
    i, s = ff.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * 2.0), (0, 1.0))
    assert int(i) == 3 and float(s) == 8.0
    assert [int(t) for t in ff.while_loop(lambda i: i < 100, lambda i: [i + 1], [0], maximum_iterations=5)] == [5]
    assert int(ff.while_loop(lambda i: i < 10, lambda i: i + 3, ff.constant(0))) == 12
    Pair = collections.namedtuple("Pair", "a b")
    out = ff.while_loop(lambda p: p.a < 2, lambda p: Pair(p.a + 1, p.b + p.a), [Pair(ff.constant(0), ff.constant(0))])
    assert isinstance(out[0], Pair) and (int(out[0].a), int(out[0].b)) == (2, 1)
    with pytest.raises(ValueError, match="structure of loop_vars"):
        ff.while_loop(lambda i: i < 3, lambda i: (i + 1, 2), (0,))
    with pytest.raises(TypeError, match="changed dtype"):
        ff.while_loop(lambda i: i < 3, lambda i: ff.cast(i, "float32") + 1.0, ff.constant(0))

    def power(x):  # x^4 by repeated squaring inside a loop
        return ff.while_loop(lambda k, y: k < 2, lambda k, y: (k + 1, y * y), (0, x))[1]

    x = random_array((3,), low=0.5, high=1.5)
    np.testing.assert_allclose(power(ff.constant(x)).numpy(), x ** 4)
    check_gradient(power, [x])
    check_second_order(power, [x])
    stopped = ff.constant(2.0)
    with ff.GradientTape() as tape:
        tape.watch(stopped)
        y = ff.while_loop(lambda k, v: k < 1, lambda k, v: (k + 1, v * v), (0, stopped), back_prop=False)[1]
    assert tape.gradient(y, stopped) is None


def test_while_loop_carries_tensor_arrays_and_composite_tensors():
    # the usual eager pattern: a TensorArray as a loop variable, written each step (TensorFlow: [0, 1, 4, 9])
    i, squares = ff.while_loop(lambda i, ta: i < 4, lambda i, ta: (i + 1, ta.write(i, ff.cast(i, "float32") ** 2)),
                               (0, ff.TensorArray(ff.float32, size=4)))
    assert int(i) == 4 and squares.stack().numpy().tolist() == [0.0, 1.0, 4.0, 9.0]

    def powers(x):  # x + x^2 + x^3 written into a TensorArray inside the loop
        body = lambda k, ta: (k + 1, ta.write(k, x ** ff.cast(k + 1, x.dtype)))  # noqa: E731
        _, ta = ff.while_loop(lambda k, ta: k < 3, body, (0, ff.TensorArray(ff.float64, size=3)))
        return ff.reduce_sum(ta.stack())

    check_gradient(powers, [random_array((), low=0.5, high=1.5)])
    sparse = ff.sparse.SparseTensor([[0]], [1.0], [3])
    doubled = ff.while_loop(lambda k, s: k < 2, lambda k, s: (k + 1, ff.sparse.add(s, s)), (0, sparse))[1]
    assert ff.sparse.to_dense(doubled).numpy().tolist() == [4.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="changed from TensorArray to float32"):
        ff.while_loop(lambda k, ta: k < 1, lambda k, ta: (k + 1, ff.constant(1.0)), (0, ff.TensorArray(ff.float32, 1)))


def test_map_fn_over_and_into_ragged_tensors():
    # TensorFlow 2.21's results
    rows = ff.ragged.constant([[1, 2], [3], [4, 5, 6]])
    assert ff.map_fn(lambda r: ff.reduce_sum(r), rows, fn_output_signature=ff.int32).numpy().tolist() == [3, 3, 15]
    assert ff.map_fn(lambda r: r * 2, rows).to_list() == [[2, 4], [6], [8, 10, 12]]
    spec = ff.RaggedTensorSpec(shape=[None], dtype=ff.int32)
    assert ff.map_fn(lambda n: ff.range(n), ff.constant([1, 2, 0]), fn_output_signature=spec).to_list() == \
        [[0], [0, 1], []]
    ranges, counts = ff.map_fn(lambda n: (ff.range(n), n), ff.constant([1, 2]), fn_output_signature=(spec, ff.int32))
    assert ranges.to_list() == [[0], [0, 1]] and counts.numpy().tolist() == [1, 2]
    assert ff.map_fn(lambda n: ff.range(n), ff.zeros([0], "int32"), fn_output_signature=spec).to_list() == []
    with pytest.raises(ValueError, match="RaggedTensorSpec"):
        ff.map_fn(lambda n: ff.range(n), ff.constant([1, 2]))


def test_map_fn_scan_folds():
    x = random_array((4, 3), seed=1)
    np.testing.assert_allclose(ff.map_fn(lambda t: ff.reduce_sum(t * t), x, fn_output_signature=ff.float64).numpy(),
                               (x * x).sum(axis=1))
    pair = ff.map_fn(lambda t: (t[0] * 2, t[1]), (ff.constant([1, 2]), ff.constant([3.0, 4.0])))
    assert pair[0].numpy().tolist() == [2, 4] and pair[1].numpy().tolist() == [3.0, 4.0]
    with pytest.raises(ff.errors.InvalidArgumentError, match="fn_output_signature"):
        ff.map_fn(lambda t: ff.cast(t, "float32"), ff.constant([1, 2]))
    empty = ff.map_fn(lambda t: t * 2, ff.zeros((0, 3)), fn_output_signature=ff.float32)
    assert empty.shape == (0,) and empty.dtype == ff.float32
    np.testing.assert_array_equal(ff.vectorized_map(lambda t: ff.cast(t, "float32") / 2, ff.constant([1, 2])).numpy(),
                                  [0.5, 1.0])
    assert ff.scan(lambda a, v: a + v, ff.constant([1, 2, 3])).numpy().tolist() == [1, 3, 6]
    assert ff.scan(lambda a, v: a + v, ff.constant([1, 2, 3]), reverse=True).numpy().tolist() == [6, 5, 3]
    assert ff.scan(lambda a, v: a * v, ff.constant([1, 2, 3]), initializer=ff.constant(2)).numpy().tolist() == [2, 4, 12]
    assert int(ff.foldl(lambda a, v: a - v, ff.constant([1, 2, 3]))) == -4
    assert int(ff.foldr(lambda a, v: a - v, ff.constant([1, 2, 3]))) == 0
    check_gradient(lambda a: ff.map_fn(lambda t: ff.sin(t) * t[0], a), [x])
    check_gradient(lambda a: ff.scan(lambda acc, v: acc * v + 1.0, a), [x])
    check_second_order(lambda a: ff.foldl(lambda acc, v: acc * v, a, initializer=ff.ones((3,), "float64")), [x])
