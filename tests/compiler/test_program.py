"""The compiler under tf.function: tracing NumPy calls, dead steps, fresh buffers, host calls."""

import numpy as np
import pytest

from featherflow.compiler import OperatorNotAllowedInGraphError, Program, TraceError, Tracer, host_call, state


def _compile(fn, *inputs):
    tracer = Tracer()
    with tracer:
        traced = [tracer.input(x) for x in inputs]
        out = fn(*traced)
    return Program(tracer, [out], [f"x{i}" for i in range(len(inputs))]), tracer.real(out)


def test_replay_recomputes_with_new_inputs_and_drops_dead_steps():
    def fn(x):
        _ = np.exp(x) * 100.0  # dead
        return (np.tanh(x) + x.sum(axis=0)).mean()

    program, first = _compile(fn, np.ones((3, 2)))
    assert first == fn(np.ones((3, 2)))
    x = np.arange(6.0).reshape(3, 2)
    assert program(x)[0] == fn(x)
    assert "exp" not in program.source and "tanh" in program.source


def test_buffer_created_during_trace_starts_fresh_every_call():
    def fn(x):
        buf = np.zeros(3)
        np.add.at(buf, [0, 0, 2], x)
        return x * 0.0 + buf  # read by identity: the restored buffer

    program, first = _compile(fn, np.array([1.0, 2.0, 3.0]))
    assert "copyto" in program.source
    assert first.tolist() == [3.0, 0.0, 3.0]
    assert program(np.array([1.0, 1.0, 1.0]))[0].tolist() == [2.0, 0.0, 1.0]
    assert program(np.array([1.0, 1.0, 1.0]))[0].tolist() == [2.0, 0.0, 1.0]


def test_state_is_updated_in_place_across_calls():
    total = np.zeros(2)
    tracer = Tracer()
    with tracer:
        x = tracer.input(np.ones(2))
        acc = state(total, "total")
        acc += x * 2.0
    program = Program(tracer, [], ["x"])
    assert total.tolist() == [2.0, 2.0]
    program(np.array([1.0, 3.0]))
    assert total.tolist() == [4.0, 8.0] and "total" in program.source


def test_outputs_are_copies_not_planned_buffers():
    program, _ = _compile(lambda x: x * 2.0, np.ones(2))
    a = program(np.array([1.0, 2.0]))[0]
    program(np.array([5.0, 6.0]))
    assert a.tolist() == [2.0, 4.0]


def test_host_call_runs_at_every_replay():
    seen = []

    def log(v):
        seen.append(float(v.sum()))
        return v + 1.0

    program, _ = _compile(lambda x: host_call(log, x) * 2.0, np.ones(2))
    assert program(np.array([1.0, 2.0]))[0].tolist() == [4.0, 6.0]
    assert seen == [2.0, 3.0]


def test_escapes_and_control_flow_raise():
    with pytest.raises(TraceError, match=r"float\(\)"):
        _compile(lambda x: x * float(x.sum()), np.ones(2))
    with pytest.raises(OperatorNotAllowedInGraphError, match="tf.while_loop"):
        _compile(lambda x: x if x.sum() > 0 else -x, np.ones(2))


def test_eager_mode_notes_the_escape_and_keeps_real_values():
    tracer = Tracer(on_escape="eager")
    with tracer:
        x = tracer.input(np.array([1.0, 2.0]))
        y = x * float(x.sum())
    assert tracer.real(y).tolist() == [3.0, 6.0] and "float()" in tracer.invalid


def test_slices_and_ellipsis_in_keys_compile():
    # a key with slice objects and Ellipsis is written into the source as slice(...) / Ellipsis: both must be
    # names the program knows (a sparse cross-entropy step failed with NameError: 'slice')
    def fn(x, n):
        return np.take(x[..., 1:], n, axis=0)[slice(None, 2)]

    program, first = _compile(fn, np.arange(12.0).reshape(4, 3), np.array([2, 0, 1]))
    x = np.arange(12.0, 24.0).reshape(4, 3)
    np.testing.assert_array_equal(program(x, np.array([3, 1, 1]))[0], fn(x, np.array([3, 1, 1])))
    assert "Ellipsis" in program.source or "..." in program.source


def test_plain_numpy_on_a_written_buffer_is_recorded_not_frozen():
    # np.add.at writes traced values into a buffer the function made; the plain NumPy after it (buf * 1.0, a
    # copy, a row copied into another buffer, np.asarray of it) used to be computed once at trace time and
    # replayed as a constant
    def fn(x):
        buf = np.zeros(3)
        np.add.at(buf, [0, 0, 2], x)
        rows = np.empty((2, 3))
        rows[0] = buf
        rows[1] = np.asarray(buf).copy() * 2.0
        return buf * 1.0 + rows.sum(axis=0)

    program, first = _compile(fn, np.array([1.0, 2.0, 3.0]))
    assert first.tolist() == fn(np.array([1.0, 2.0, 3.0])).tolist() == [12.0, 0.0, 12.0]
    for x in (np.array([5.0, 1.0, 2.0]), np.array([0.5, 0.0, -1.0])):
        np.testing.assert_array_equal(program(x)[0], fn(x))


def test_reading_a_written_buffer_into_python_is_an_escape():
    def fn(x):
        buf = np.zeros(2)
        np.add(buf, x, out=buf)
        return x * float(buf[0])

    with pytest.raises(TraceError, match="float"):
        _compile(fn, np.ones(2))


def test_a_write_into_an_array_made_outside_the_trace_is_reported():
    outside = np.zeros(2)  # plain NumPy could read it later: the trace cannot watch it

    def fn(x):
        np.multiply(x, 2.0, out=outside)
        return x + 1.0

    with pytest.raises(TraceError, match="created outside the traced function"):
        _compile(fn, np.ones(2))


def test_a_host_call_that_only_reads_an_outside_array_compiles():
    table = np.array([10.0, 20.0])  # made outside the trace, only read by the host function

    def fn(x):
        return host_call(lambda a, t: a * t, x, table) + 1.0

    program, first = _compile(fn, np.ones(2))
    assert first.tolist() == [11.0, 21.0]
    assert program(np.array([2.0, 3.0]))[0].tolist() == [21.0, 61.0]
    table[:] = [1.0, 1.0]  # read by reference at every replay (the compiler's documented capture rule)
    assert program(np.array([2.0, 3.0]))[0].tolist() == [3.0, 4.0]


def test_a_host_call_that_writes_an_outside_array_is_reported():
    outside = np.zeros(2)

    def write(a, out):
        np.multiply(a, 2.0, out=out)
        return a + out

    def fn(x):
        return host_call(write, x, outside)

    with pytest.raises(TraceError, match="created outside the traced function"):
        _compile(fn, np.ones(2))


def test_empty_buffers_are_not_restored_zeros_buffers_are():
    def fn(x):
        a = np.empty(2)
        np.multiply(x, 2.0, out=a)
        b = np.zeros(2)
        np.add.at(b, [1, 1], x)
        return a + b

    program, first = _compile(fn, np.ones(2))
    assert program.source.count("copyto(") == 1  # only the zeros buffer gets its starting contents back
    assert program(np.array([1.0, 3.0]))[0].tolist() == [2.0, 10.0]
    assert program(np.array([1.0, 3.0]))[0].tolist() == [2.0, 10.0]
