"""tf.Module, name scopes, tf.nest, custom gradients and the eager-mode API."""

import collections
import threading

import numpy as np
import pytest
from gradcheck import check_gradient, check_second_order, random_array

import featherflow as ff
from featherflow import keras


class Dense(ff.Module):
    def __init__(self, units, name=None):
        super().__init__(name=name)
        with self.name_scope:
            self.w = ff.Variable(np.ones((2, units), "float32"), name="w")
            self.frozen = ff.Variable(0.0, trainable=False, name="frozen")

    @ff.Module.with_name_scope
    def __call__(self, x):
        return ff.matmul(x, self.w)


class Net(ff.Module):
    def __init__(self):
        super().__init__()
        self.layers = [Dense(3, name="first"), Dense(3, name="second")]
        self.extra = {"keras": keras.layers.Dense(2)}
        self.extra["keras"].build((None, 3))
        self.shared = self.layers[0].w  # the same variable twice: listed once


def test_module_collects_variables_and_submodules_in_attribute_order():
    net = Net()
    assert net.name == "net" and Dense(1).name == "dense"
    keras_layer = net.extra["keras"]
    # sorted attribute names: extra (the Keras layer's weights), layers (each Dense: frozen, w), shared (a repeat)
    assert list(net.variables) == [keras_layer.kernel, keras_layer.bias, net.layers[0].frozen, net.layers[0].w,
                                   net.layers[1].frozen, net.layers[1].w]
    assert [v.name for v in net.trainable_variables if v.name.startswith("first")] == ["first/w"]
    assert {v.name for v in net.non_trainable_variables} == {"first/frozen", "second/frozen"}
    assert len(net.variables) == 4 + 2  # two Dense modules (w, frozen) and the Keras layer's kernel and bias
    assert len(net.submodules) == 3
    with pytest.raises(ValueError, match="valid module name"):
        ff.Module(name="not valid")
    out = net.layers[0](ff.ones((1, 2)))
    assert out.numpy().tolist() == [[2.0, 2.0, 2.0]]


def test_name_scopes():
    assert ff.get_current_name_scope() == ""
    with ff.name_scope("outer") as scope:
        assert scope == "outer/"
        v = ff.Variable(1.0, name="v")
        with ff.name_scope("inner"):
            assert ff.get_current_name_scope() == "outer/inner"
            with ff.name_scope("reset/"):
                assert ff.get_current_name_scope() == "reset"
        module = ff.Module(name="m")
    assert v.name == "outer/v" and repr(v).startswith("<tf.Variable 'outer/v:0'")
    assert module.name_scope.name == "outer/m/"
    with pytest.raises(ValueError, match="not a valid scope name"):
        ff.name_scope("bad name")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(ff.get_current_name_scope()))
    with ff.name_scope("main_only"):
        thread.start()
        thread.join()
    assert seen == [""]  # per thread


def test_nest():
    Point = collections.namedtuple("Point", "x y")
    structure = {"b": [1, Point(2, 3)], "a": (4, None)}
    assert ff.nest.flatten(structure) == [4, None, 1, 2, 3]
    rebuilt = ff.nest.pack_sequence_as(structure, [40, 50, 10, 20, 30])
    assert rebuilt == {"b": [10, Point(20, 30)], "a": (40, 50)} and list(rebuilt) == ["b", "a"]
    assert ff.nest.map_structure(lambda p, q: p + q, (1, [2]), (10, [20])) == (11, [22])
    with pytest.raises(ValueError, match="same nested structure"):
        ff.nest.assert_same_structure([1, 2], [1, [2]])
    with pytest.raises(TypeError, match="sequence type"):
        ff.nest.assert_same_structure([1, 2], (1, 2))
    ff.nest.assert_same_structure([1, 2], (1, 2), check_types=False)
    assert not ff.nest.is_nested("abc") and ff.nest.is_nested({})
    with pytest.raises(ValueError, match="Could not pack"):
        ff.nest.pack_sequence_as([0, 0], [1])


def test_custom_gradient_with_inputs_and_variables():
    @ff.custom_gradient
    def log1pexp(x):
        e = ff.exp(x)

        def grad(upstream):
            return upstream * (1 - 1 / (1 + e))

        return ff.math.log1p(e), grad

    x = ff.constant([0.0, 100.0], "float64")
    with ff.GradientTape() as tape:
        tape.watch(x)
        y = log1pexp(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.5, 1.0])  # stable where the naive rule is NaN
    w = ff.Variable(2.0, dtype="float64")

    @ff.custom_gradient
    def scaled(t):
        def grad(upstream, variables=None):
            return upstream * w * 10, [ff.reduce_sum(upstream * t)]

        return t * w, grad

    t = ff.constant([1.0, 3.0], "float64")
    with ff.GradientTape() as tape:
        tape.watch(t)
        out = scaled(t)
    gt, gw = tape.gradient(out, [t, w])
    assert gt.numpy().tolist() == [20.0, 20.0] and float(gw) == 4.0

    @ff.custom_gradient
    def no_variables_kwarg(t):
        return t * w, lambda upstream: upstream

    with pytest.raises(TypeError, match="keyword argument 'variables'"):
        no_variables_kwarg(t)
    # a differentiable grad_fn gives second derivatives
    cube = ff.custom_gradient(lambda t: (t * t * t, lambda g: g * 3 * t * t))
    check_second_order(cube, [random_array((3,))])


def test_recompute_grad_and_grad_pass_through():
    block = ff.recompute_grad(lambda a: ff.tanh(a) * a)
    check_gradient(block, [random_array((4,))])
    rounded = ff.grad_pass_through(ff.round)
    x = ff.constant([1.3, -0.6])
    with ff.GradientTape() as tape:
        tape.watch(x)
        y = rounded(x) * 2.0
    assert y.numpy().tolist() == [2.0, -2.0] and tape.gradient(y, x).numpy().tolist() == [2.0, 2.0]


def test_py_function_numpy_function_and_eager_api():
    x = ff.constant(3.0)
    with ff.GradientTape() as tape:
        tape.watch(x)
        y = ff.py_function(lambda t: t * t, [x], Tout=ff.float32)
    assert float(tape.gradient(y, x)) == 6.0
    sorted_ = ff.numpy_function(np.sort, [ff.constant([3.0, 1.0])], Tout=ff.float32)
    assert sorted_.numpy().tolist() == [1.0, 3.0]
    a, b = ff.numpy_function(lambda v: (v, v * 2), [ff.constant([1])], Tout=[ff.int32, ff.int32])
    assert b.numpy().tolist() == [2]
    with pytest.raises(ff.errors.InvalidArgumentError, match="Tout"):
        ff.py_function(lambda t: t, [ff.constant([1])], Tout=ff.float32)
    assert ff.group(x) is None and ff.no_op() is None
    assert [float(t) for t in ff.tuple([x, ff.constant(1.0)])] == [3.0, 1.0]
    assert ff.get_static_value(ff.constant([1, 2])).tolist() == [1, 2]
    assert ff.inside_function() is False and ff.is_symbolic_tensor(x) is False
    assert ff.timestamp().dtype == ff.float64
    with ff.GradientTape(persistent=True) as tape:
        tape.watch(x)
        with ff.init_scope():
            paused = x * x
        live = x * 2.0
    assert tape.gradient(paused, x) is None and float(tape.gradient(live, x)) == 2.0
    with ff.control_dependencies([x]):
        pass
    spec = ff.DeviceSpec.from_string("/job:w/replica:0/task:1/device:gpu:0")
    assert spec.device_type == "GPU" and spec.to_string() == "/job:w/replica:0/task:1/device:GPU:0"
    assert spec.replace(device_type="CPU").device_type == "CPU"
    with pytest.raises(ValueError, match="Unknown device"):
        ff.DeviceSpec.from_string("gpu zero")
    with ff.device("/GPU:0"):
        assert float(x * 2.0) == 6.0
    section = ff.CriticalSection()
    assert section.execute(lambda: 5) == 5
    with pytest.raises(ValueError, match="already running"):
        section.execute(lambda: section.execute(lambda: 1))
    rows = ff.IndexedSlices(ff.constant([[1.0, 2.0], [3.0, 4.0]]), ff.constant([2, 2]), ff.constant([3, 2]))
    assert ff.convert_to_tensor(rows).numpy().tolist() == [[0, 0], [0, 0], [4, 6]]
    values, indices = ff.approx_top_k(ff.constant([[1.0, 5.0, 3.0]]), 2, is_max_k=False)
    assert values.numpy().tolist() == [[1.0, 3.0]] and indices.numpy().tolist() == [[0, 2]]
    assert ff.math.accumulate_n([[1.0], [2.0]]).numpy().tolist() == [3.0]


def test_tensor_array():
    ta = ff.TensorArray(ff.float32, size=2)
    ta = ta.write(0, ff.constant([1.0, 2.0])).write(1, [3.0, 4.0])
    assert ta.stack().numpy().tolist() == [[1, 2], [3, 4]] and int(ta.size()) == 2
    with pytest.raises(ff.errors.InvalidArgumentError, match="not resizeable"):
        ta.write(5, [0.0, 0.0])
    with pytest.raises(ff.errors.InvalidArgumentError, match="dtype is float32"):
        ta.write(0, ff.constant([1, 2]))
    grown = ff.TensorArray(ff.float64, size=0, dynamic_size=True).unstack(random_array((3, 2)))
    assert grown.read(2).shape == (2,) and grown.gather([2, 0]).shape == (2, 2)
    assert ff.TensorArray(ff.float32, size=0, dynamic_size=True).split([1.0, 2.0, 3.0], [1, 2]).concat().shape == (3,)

    def loop_sum(x):
        ta = ff.TensorArray(ff.float64, size=0, dynamic_size=True)
        for i in range(3):
            ta = ta.write(i, x * float(i + 1))
        return ff.reduce_sum(ta.stack(), axis=0)

    check_gradient(loop_sum, [random_array((2,))])
