"""Elementwise fusion: chains of elementwise steps compiled into one Numba loop, checked against NumPy."""

import os

import numpy as np
import pytest

from featherflow.compiler import Program, Tracer, fusion

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(os.environ.get("FEATHERFLOW_NUMBA") == "0",
                                reason="FEATHERFLOW_NUMBA=0 switches Numba off: nothing fuses")


@pytest.fixture(autouse=True)
def _fusion_on():
    mode, transcendentals = fusion._settings["mode"], fusion._settings["transcendentals"]
    fusion.set_fusion("on")
    yield
    fusion._settings.update(mode=mode, transcendentals=transcendentals)


def _compile(fn, *inputs):
    tracer = Tracer()
    with tracer:
        traced = [tracer.input(x) for x in inputs]
        out = fn(*traced)
    outs = list(out) if isinstance(out, tuple) else [out]
    return Program(tracer, outs, [f"x{i}" for i in range(len(inputs))])


_BINARY = [np.add, np.subtract, np.multiply, np.true_divide, np.maximum, np.minimum]
_COMPARE = [np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal]
_UNARY = [np.negative, np.square, np.absolute]


def _random_chain(rng, length):
    """A random chain ``fn(x, row, col, full)`` of elementwise ops on a (5, 7) value: each op takes the value so
    far and one of: the full array, a row (7,), a column (5, 1), a 0-d array or a Python number."""
    ops = []
    for _ in range(length):
        kind = rng.integers(5)
        other = ["full", "row", "col", "zero_d", "number"][rng.integers(5)]
        number = float(rng.uniform(0.5, 2.0))
        if kind < 3:
            ops.append(("binary", _BINARY[rng.integers(len(_BINARY))], other, number, rng.integers(2)))
        elif kind == 3:
            ops.append(("unary", _UNARY[rng.integers(len(_UNARY))], None, None, 0))
        else:
            ops.append(("where", _COMPARE[rng.integers(len(_COMPARE))], other, number, 0))

    def fn(x, row, col, zero_d, full):
        operands = {"full": full, "row": row, "col": col, "zero_d": zero_d}
        value = x
        for kind, op, other, number, swap in ops:
            b = number if other == "number" else operands.get(other)
            if kind == "binary":
                value = op(b, value) if swap else op(value, b)
            elif kind == "unary":
                value = op(value)
            else:
                value = np.where(op(value, b), value, -value)
        return value

    return fn


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_chains_match_numpy(seed, dtype):
    rng = np.random.default_rng(seed)
    fn = _random_chain(rng, int(rng.integers(2, 7)))

    def draw():
        return (rng.uniform(0.5, 2.0, (5, 7)).astype(dtype), rng.uniform(0.5, 2.0, 7).astype(dtype),
                rng.uniform(0.5, 2.0, (5, 1)).astype(dtype), np.array(rng.uniform(0.5, 2.0), dtype),
                rng.uniform(0.5, 2.0, (5, 7)).astype(dtype))

    program = _compile(fn, *draw())
    for _ in range(3):
        inputs = draw()
        expected = fn(*inputs)
        got = program(*inputs)[0]
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=2e-6 if dtype == "float32" else 1e-13)
    assert program.fused and program.groups


def test_intermediates_used_only_inside_the_chain_get_no_buffer():
    def fn(x, b):
        h = x * 2.0
        h = h + b
        return np.maximum(h, 0.0)

    program = _compile(fn, np.ones((4, 3), "float32"), np.ones(3, "float32"))
    (group,) = program.groups
    assert len(group.steps) == 3 and len(group.outputs) == 1  # h and h + b live in the loop only
    assert group.source.count("] = ") == 1
    assert "multiply(" not in program.fused_source.split("#")[0]
    x, b = np.arange(12.0, dtype="float32").reshape(4, 3) - 5, np.array([1.0, -2.0, 0.5], "float32")
    np.testing.assert_array_equal(program(x, b)[0], fn(x, b))


def test_intermediate_read_after_the_chain_is_written_out():
    def fn(x):
        mask = x > 0.5  # read again by the sum below: it escapes the chain
        scaled = mask * x * 3.0
        return scaled, mask.sum(axis=0)

    program = _compile(fn, np.zeros((6, 2)))
    (group,) = program.groups
    assert [slot for slot, _ in group.outputs] == sorted(slot for slot, _ in group.outputs) and len(group.outputs) == 2
    x = np.random.default_rng(1).uniform(size=(6, 2))
    scaled, counts = program(x)
    np.testing.assert_allclose(scaled, (x > 0.5) * x * 3.0)
    np.testing.assert_array_equal(counts, (x > 0.5).sum(axis=0))


def test_short_chains_on_small_arrays_stay_numpy():
    program = _compile(lambda x: (x + 1.0) * 3.0, np.ones(8))
    assert not program.groups and program.fused_source is None
    program = _compile(lambda x: (x + 1.0) * 3.0, np.ones(fusion.MIN_PAIR_SIZE))
    assert len(program.groups) == 1


def test_a_chain_broken_by_another_step_is_two_chains():
    def fn(x):
        a = (x + 1.0) * 2.0
        s = a.sum(axis=1, keepdims=True)  # not elementwise: ends the first chain
        return (a - s) * 0.5 + 1.0

    program = _compile(fn, np.ones((32, 40), "float32"))
    assert len(program.groups) == 2
    x = np.random.default_rng(2).normal(size=(32, 40)).astype("float32")
    np.testing.assert_allclose(program(x)[0], fn(x), rtol=1e-6)


def test_in_place_steps_and_their_aliases():
    def fn(x):
        t = x * 2.0
        np.add(t, 1.0, out=t)  # in place into a program buffer: fused
        np.maximum(t, 2.0, out=t)
        return t

    program = _compile(fn, np.ones(5))
    (group,) = program.groups
    assert len(group.steps) == 3
    x = np.array([-1.0, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(program(x)[0], fn(x))

    def overlapping(x):
        t = x * 2.0
        v = t[::-1]  # a view of t, read by a step that writes t in place: never one loop
        np.add(t, v, out=t)
        np.multiply(t, 3.0, out=t)
        return t

    program = _compile(overlapping, np.ones(4))
    x = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(program(x)[0], overlapping(x))
    assert all(len(g.steps) < 3 for g in program.groups)


def test_a_value_made_then_updated_in_place_in_the_chain_is_written_once():
    def fn(x):
        t = x * 2.0
        np.add(t, 1.0, out=t)
        np.maximum(t, 0.0, out=t)
        return t * 1.0, t.sum()

    program = _compile(fn, np.ones((4, 300)))
    (group,) = [g for g in program.groups if len(g.steps) >= 3]
    assert len(group.outputs) <= 2 and len({slot for slot, _ in group.outputs}) == len(group.outputs)
    x = np.random.default_rng(4).normal(size=(4, 300))
    for got, expected in zip(program(x), fn(x)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_nan_and_dtypes_follow_numpy():
    def fn(x, y):
        m = np.maximum(x, y)
        n = np.minimum(m, 5)  # a Python int: weak promotion keeps float32
        return n * np.float32(2.0), (n > 1.0) * 1.0

    program = _compile(fn, np.zeros(4, "float32"), np.zeros(4, "float32"))
    x = np.array([np.nan, 1.0, 7.0, -1.0], "float32")
    y = np.array([0.0, np.nan, 2.0, -3.0], "float32")
    got = program(x, y)
    for g, e in zip(got, fn(x, y)):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)


def test_transcendentals_are_numpy_calls_unless_asked():
    def fn(x):
        return np.tanh(np.exp(x * 0.5) - 1.0) + np.log(x + 2.0)

    program = _compile(fn, np.ones((3, 3), "float32"))
    assert all(step.fn not in (np.exp, np.tanh, np.log) for g in program.groups for step in g.steps)
    fusion.set_fusion(transcendentals=True)
    program = _compile(fn, np.ones((3, 3), "float32"))
    assert any(step.fn is np.exp for g in program.groups for step in g.steps)
    x = np.random.default_rng(3).uniform(0, 2, (3, 3)).astype("float32")
    np.testing.assert_allclose(program(x)[0], fn(x), rtol=2e-6, atol=1e-6)


def test_off_keeps_the_numpy_lines_and_auto_fuses_after_repeated_calls(monkeypatch):
    def fn(x):
        return np.maximum((x + 1.0) * 3.0, 0.0)

    fusion.set_fusion("off")
    program = _compile(fn, np.ones(3))
    assert program.fused_source is None and not program.fused and "add(" in program.printed_source()
    fusion.set_fusion("auto")
    monkeypatch.setattr(fusion, "AUTO_AFTER_CALLS", 3)
    monkeypatch.setattr(fusion, "AUTO_AFTER_SECONDS", 1e9)
    program = _compile(fn, np.ones(3))
    x = np.arange(3.0)
    for _ in range(2):
        assert program(x)[0].tolist() == fn(x).tolist() and not program.fused
    program(x)
    assert program.fused and program(x)[0].tolist() == fn(x).tolist()
    monkeypatch.setattr(fusion, "AUTO_AFTER_CALLS", 10 ** 9)
    monkeypatch.setattr(fusion, "AUTO_AFTER_SECONDS", 0.0)  # a slow program fuses after its first call
    program = _compile(fn, np.ones(3))
    program(x)
    assert program.fused


def test_without_numba_nothing_is_fused(monkeypatch):
    monkeypatch.setenv("FEATHERFLOW_NUMBA", "0")
    monkeypatch.setattr(fusion, "_numba", {})
    assert not fusion.available()
    program = _compile(lambda x: np.maximum((x + 1.0) * 3.0, 0.0), np.ones(3))
    assert not program.groups and program(np.ones(3))[0].tolist() == [6.0, 6.0, 6.0]


def test_kernels_are_cached_by_structure(tmp_path, monkeypatch):
    monkeypatch.setenv("FEATHERFLOW_FUSION_CACHE", str(tmp_path))
    first = _compile(lambda x: (x + 1.0) * 3.0 - x, np.ones(3))
    second = _compile(lambda x: (x + 7.0) * 0.5 - x, np.ones(8))  # other numbers and size, same structure
    assert first.namespace[first.groups[0].name] is second.namespace[second.groups[0].name]
    assert second(np.ones(8))[0].tolist() == [3.0] * 8


def test_pretty_printed_code_shows_the_kernel():
    import featherflow as tf

    @tf.function
    def step(x, b):
        return tf.nn.relu(x * 2.0 + b)

    x = tf.constant(np.ones((2, 3), "float32"))
    b = tf.constant(np.zeros(3, "float32"))
    code = step.get_concrete_function(x, b).pretty_printed_code()
    assert "fused_1(" in code and "def fused_1(" in code and "@njit" in code
    np.testing.assert_array_equal(step(x, b).numpy(), np.full((2, 3), 2.0, "float32"))


_SOURCE = ("import numpy as np\nfrom numba import njit\n\n\n@njit(cache=True, nogil=True, error_model=\"numpy\")\n"
           "def kernel(a, out):\n    for i in range(a.shape[0]):\n        out[i] = a[i] * 3.0 + 1.0\n")


def _run(kernel):
    out = np.empty(3)
    kernel(np.arange(3.0), out)
    return out.tolist()


def test_a_cached_module_that_is_not_the_source_is_rewritten_not_run(tmp_path, monkeypatch):
    import hashlib
    import os

    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("FEATHERFLOW_FUSION_CACHE", str(folder))
    path = folder / f"fused_{hashlib.sha1(_SOURCE.encode()).hexdigest()[:20]}.py"
    path.write_text("raise RuntimeError('planted')\n")
    os.chmod(folder, 0o700)
    assert _run(fusion._load(_SOURCE)) == [1.0, 4.0, 7.0]
    assert path.read_text() == _SOURCE


def test_a_cache_folder_others_can_write_is_not_used(tmp_path, monkeypatch):
    import os

    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)
    monkeypatch.setenv("FEATHERFLOW_FUSION_CACHE", str(folder))
    assert _run(fusion._load(_SOURCE.replace("3.0", "5.0"))) == [1.0, 6.0, 11.0]  # compiled in memory
    assert list(folder.iterdir()) == []


def test_the_default_cache_is_in_the_users_cache_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("FEATHERFLOW_FUSION_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert fusion.fusion_cache_dir() == str(tmp_path / "featherflow" / "fused")
