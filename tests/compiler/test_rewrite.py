"""Program rewrites: constant folding, cheaper reductions and views, copy elision - same values as NumPy."""

import numpy as np
import pytest

from featherflow.compiler import Program, Tracer, fusion


@pytest.fixture(autouse=True)
def _no_fusion():
    mode = fusion._settings["mode"]
    fusion.set_fusion("off")  # the NumPy lines, to read the rewritten steps
    yield
    fusion._settings["mode"] = mode


def _compile(fn, *inputs):
    tracer = Tracer()
    with tracer:
        traced = [tracer.input(x) for x in inputs]
        out = fn(*traced)
    outs = list(out) if isinstance(out, tuple) else [out]
    return Program(tracer, outs, [f"x{i}" for i in range(len(inputs))])


def _body(program):
    return [line.split("  #")[0].strip() for line in program.source.splitlines()[1:]]


def test_values_known_at_compile_time_are_folded():
    def fn(x):
        seed = np.ones_like(x.sum()) * 0.25  # depends on x's shape only
        seed = np.broadcast_to(seed.reshape([1]), (x.shape[0],)).reshape(-1, 1)
        return x * seed

    program = _compile(fn, np.ones((4, 3)))
    body = _body(program)
    assert not any("ones_like" in line or "broadcast_to" in line or "sum" in line for line in body)
    x = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(program(x)[0], fn(x))


def test_a_value_written_later_is_not_folded():
    def fn(x):
        buf = np.zeros_like(x) + 1.0  # zeros_like(x) is a constant; the sum is written below: computed each call
        np.multiply(buf, x, out=buf)
        return buf

    program = _compile(fn, np.ones(3))
    x = np.array([1.0, 2.0, 3.0])
    for _ in range(2):
        np.testing.assert_array_equal(program(x)[0], x)
    body = _body(program)
    assert any("add(" in line for line in body) and not any("zeros_like" in line for line in body)


def test_reductions_and_expand_dims_are_the_numpy_results():
    def fn(x):
        return (x.sum(axis=0), x.max(axis=1, keepdims=True), x.min(), x.mean(axis=(0, 1)), x.mean(axis=0),
                np.expand_dims(x, -1), np.expand_dims(x, (0, 2)), np.argmax(x, axis=-1), np.argmin(x, 0),
                np.mean(x, axis=(0, 1), keepdims=True))

    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    program = _compile(fn, x)
    body = "\n".join(_body(program))
    assert "add.reduce" in body and "maximum.reduce" in body and "mean_of" in body and "expand_dims" not in body
    assert ".argmax(axis=-1)" in body and ".argmin(axis=0)" in body and "mean(" not in body.replace("mean_of(", "")
    x = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    for got, expected in zip(program(x), fn(x)):
        assert type(got) is type(expected) and np.shape(got) == np.shape(expected)
        assert np.asarray(got).dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(got, expected)


def test_integer_sums_keep_the_method():
    program = _compile(lambda x: x.sum(axis=0), np.ones((2, 2), "int32"))
    assert any(".sum(" in line for line in _body(program))
    assert program(np.full((2, 2), 3, "int32"))[0].tolist() == [6, 6]


def _compile_with_state(fn, flat, *inputs):
    tracer = Tracer()
    with tracer:
        tracer.state(flat, "flat_gradients")  # as an optimizer's flat buffer: views of it are written in place
        traced = [tracer.input(x) for x in inputs]
        out = fn(*traced)
    return Program(tracer, [out], [f"x{i}" for i in range(len(inputs))])


def test_a_copy_into_an_outside_buffer_is_written_there_directly():
    flat = np.zeros(6)
    destination = flat.reshape(3, 2)

    def fn(x, w):
        g = np.matmul(x.T, w)
        np.copyto(destination, g, casting="same_kind")
        return x * 1.0

    program = _compile_with_state(fn, flat, np.ones((4, 3)), np.ones((4, 2)))
    body = _body(program)
    assert not any(line.startswith("copyto") for line in body) and any("matmul" in line and "out=c" in line
                                                                        for line in body)
    x, w = np.arange(12.0).reshape(4, 3), np.arange(8.0).reshape(4, 2)
    program(x, w)
    np.testing.assert_array_equal(destination, x.T @ w)


def test_a_copy_whose_source_is_read_again_stays():
    flat = np.zeros(3)
    destination = flat[:]

    def fn(x):
        g = x * 2.0
        np.copyto(destination, g)
        return g + 1.0

    program = _compile_with_state(fn, flat, np.ones(3))
    assert any(line.startswith("copyto") for line in _body(program))
    out = program(np.array([1.0, 2.0, 3.0]))[0]
    assert out.tolist() == [3.0, 5.0, 7.0] and destination.tolist() == [2.0, 4.0, 6.0]


def test_sparse_labels_are_checked_once_per_compiled_step():
    import featherflow as tf

    @tf.function
    def loss(labels, logits):
        return tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))

    labels = np.array([0, 2], "int64")
    logits = np.zeros((2, 3), "float32")
    code = loss.get_concrete_function(labels, logits).pretty_printed_code()
    assert sum("host__check_sparse_labels(" in line for line in code.splitlines()) == 1
    np.testing.assert_allclose(float(loss(labels, logits)), np.log(3.0), rtol=1e-6)
    with pytest.raises(ValueError, match="outside the valid range"):
        loss(np.array([0, 3], "int64"), logits)
