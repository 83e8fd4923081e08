"""The ops' buffer pool hands memory out again only once no array uses it (ops/_workspace.py)."""

import sys
import threading

import numpy as np
import pytest

import featherflow as ff
from featherflow.ops import _workspace
from featherflow.ops._workspace import workspace


@pytest.fixture(autouse=True)
def empty_pool():
    _workspace.clear_workspace()
    yield
    _workspace.clear_workspace()


def _address(a) -> int:
    return a.__array_interface__["data"][0]


def test_memory_is_reused_once_free():
    a = workspace("t", (4, 5), np.float32)
    address = _address(a)
    del a
    b = workspace("t", (4, 5), np.float32)
    assert _address(b) == address
    assert b.shape == (4, 5) and b.dtype == np.float32 and b.flags.writeable and b.flags.c_contiguous


@pytest.mark.parametrize("derive", [
    lambda a: a[1:3],
    lambda a: a.T,
    lambda a: a.reshape(-1),
    lambda a: a.reshape(2, 10)[:, ::2],
    lambda a: a.view(np.int32),
    lambda a: np.lib.stride_tricks.as_strided(a, shape=(3, 3), strides=(4, 4)),
    lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, axis=1),
    lambda a: ff.constant(a).value,
    lambda a: memoryview(a),
], ids=["slice", "transpose", "reshape", "strided", "view-dtype", "as_strided", "sliding-window", "tensor",
        "memoryview"])
def test_memory_stays_taken_while_any_array_derived_from_it_lives(derive):
    a = workspace("t", (4, 5), np.float32)
    a[...] = 7.0
    address = _address(a)
    derived = derive(a)
    expected = np.array(derived, copy=True)
    del a
    others = [workspace("t", (4, 5), np.float32) for _ in range(3)]
    assert address not in {_address(o) for o in others}
    for o in others:
        o[...] = -1.0  # writing the other buffers must not reach the derived array
    np.testing.assert_array_equal(np.asarray(derived), expected)
    del derived, others
    assert _address(workspace("t", (4, 5), np.float32)) == address


def test_roles_shapes_and_dtypes_never_share_memory():
    first = workspace("a", (3, 3), np.float32)
    address = _address(first)
    del first
    for role, shape, dtype in (("b", (3, 3), np.float32), ("a", (9,), np.float32), ("a", (3, 3), np.int32)):
        assert _address(workspace(role, shape, dtype)) != address


def test_pool_keeps_at_most_the_limit_per_kind():
    held = [workspace("t", (2,), np.float64) for _ in range(_workspace.POOL_LIMIT + 3)]
    assert len({_address(a) for a in held}) == len(held)  # the extra ones are plain arrays
    assert [key for key in _workspace.pooled_keys() if key[0] == "t"] == [("t", (2,), np.dtype(np.float64).str)]


def test_empty_shapes_and_other_array_modules_are_not_pooled():
    assert workspace("t", (0, 3), np.float32).shape == (0, 3)

    class FakeModule:  # an array module that is not NumPy: a fresh array each time
        __name__ = "fake"

        @staticmethod
        def empty(shape, dtype):
            return ("fresh", shape, dtype)

    assert workspace("t", (2, 2), np.float32, FakeModule) == ("fresh", (2, 2), np.float32)
    assert _workspace.pooled_keys() == []


def test_no_reference_counting_is_involved(monkeypatch):
    # the pool's decision must not rest on sys.getrefcount, whose counts are an interpreter detail
    def refuse(obj):
        raise AssertionError("workspace called sys.getrefcount")

    monkeypatch.setattr(sys, "getrefcount", refuse)
    a = workspace("t", (8,), np.float32)
    address = _address(a)
    del a
    assert _address(workspace("t", (8,), np.float32)) == address


def test_threads_never_get_the_same_memory():
    barrier = threading.Barrier(4)
    taken, errors = [], []

    def take():
        try:
            barrier.wait()
            for _ in range(200):
                a = workspace("threads", (64,), np.float64)
                mark = float(threading.get_ident() % 1000003)
                a[...] = mark
                taken.append(_address(a))
                if not (a == mark).all():
                    errors.append("another thread wrote this thread's buffer")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(taken)) <= _workspace.POOL_LIMIT  # memory was reused, never more than the pool holds


def test_a_recorded_backward_rule_keeps_its_buffers_until_the_tape_drops_it():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    w = ff.Variable(rng.standard_normal((3, 3, 3, 4)).astype(np.float32))

    def gradient(tape, y):
        return tape.gradient(y, w).numpy()

    with ff.GradientTape() as reference_tape:
        reference = ff.reduce_sum(ff.nn.conv2d(x, w, 1, "SAME") ** 2)
    want = gradient(reference_tape, reference)
    with ff.GradientTape() as held:
        y = ff.reduce_sum(ff.nn.conv2d(x, w, 1, "SAME") ** 2)
    for _ in range(3):  # other calls of the same shapes while `held` keeps its rule (and its im2col matrix)
        ff.nn.conv2d(np.full_like(x, 9.0), w, 1, "SAME")
    np.testing.assert_array_equal(gradient(held, y), want)
