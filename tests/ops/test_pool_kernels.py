"""The compiled (Numba) 2x2 max pooling against the NumPy path (bit for bit) and a loop reference.

Both paths run in the same process through ``featherflow.ops._kernels.use_kernels``; every comparison
is of raw bits (``view(uint)``), so signed zeros and NaN payloads count too.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from bits import bits
from conv_reference import reference_pool2d
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.ops import _kernels

pytest.importorskip("numba")




def _pool_and_grad(x, g, compiled, data_format="NHWC"):
    """Output and input gradient of a 2x2/stride-2 max pool with the kernels on or off."""
    _kernels.use_kernels(compiled)
    xt = ff.constant(x)
    with ff.GradientTape() as tape:
        tape.watch(xt)
        y = ff.nn.max_pool2d(xt, 2, 2, "VALID", data_format=data_format)
    with np.errstate(invalid="ignore"):  # inf * 0 in NumPy's masked multiply (the kernel does not warn)
        gx = tape.gradient(y, xt, output_gradients=g)
    return y.numpy().copy(), gx.numpy().copy()


def _first_max_gradient(x, g):
    """Loop reference: each 2x2 window's gradient to its first maximum in row-major order, ``g * 0`` on
    the others (NaN windows: everywhere); uncovered rows/columns 0."""
    out = np.zeros(x.shape, np.result_type(x, g))
    with np.errstate(invalid="ignore"):
        _route_loop(x, g, out)
    return out


def _route_loop(x, g, out):
    n, h, w, c = x.shape
    for b in range(n):
        for i in range(h // 2):
            for j in range(w // 2):
                for ch in range(c):
                    window = x[b, 2 * i:2 * i + 2, 2 * j:2 * j + 2, ch].ravel()
                    out[b, 2 * i:2 * i + 2, 2 * j:2 * j + 2, ch] = g[b, i, j, ch] * 0
                    hits = np.flatnonzero(window == window.max())
                    if hits.size:
                        out[b, 2 * i + hits[0] // 2, 2 * j + hits[0] % 2, ch] = g[b, i, j, ch]


def _tricky_input(shape, dtype, seed):
    """Ties (small integers after a ReLU, as the small CNN sees), signed zeros, NaN and infinities."""
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.integers(-2, 3, shape), 0).astype(dtype)
    x[rng.random(shape) < 0.2] = -0.0
    flat = x.reshape(-1)
    for value, count in ((np.nan, 5), (-np.nan, 3), (np.inf, 4), (-np.inf, 4)):
        flat[rng.integers(0, flat.size, count)] = value
    x[0, :2, :2, 0] = [[-0.0, 0.0], [0.0, -0.0]]  # an all-zero window of mixed signs
    if shape[-1] > 1:
        x[0, :2, :2, 1] = [[0.0, -0.0], [-0.0, 0.0]]
    return x


def _tricky_gradient(shape, dtype, seed):
    """Negative entries (``g * 0`` is ``-0.0``), infinities and a NaN (``g * 0`` is NaN)."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(shape).astype(dtype)
    if g.size >= 6:
        g.reshape(-1)[:3] = [np.inf, -np.inf, np.nan]
    return g


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3, 26, 26, 32), (5, 11, 11, 64), (2, 7, 6, 3), (1, 2, 2, 1), (4, 3, 5, 2)])
def test_compiled_max_pool_bit_identical_to_numpy_path(dtype, shape):
    x = _tricky_input(shape, dtype, seed=sum(shape))
    g = _tricky_gradient((shape[0], shape[1] // 2, shape[2] // 2, shape[3]), dtype, seed=1)
    y_np, gx_np = _pool_and_grad(x, g, compiled=False)
    y_nb, gx_nb = _pool_and_grad(x, g, compiled=True)
    assert y_nb.dtype == y_np.dtype == gx_nb.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(bits(y_nb), bits(y_np))
    np.testing.assert_array_equal(bits(gx_nb), bits(gx_np))
    # and both against independent references (NaN windows give NaN, as np.max)
    h2, w2 = shape[1] // 2 * 2, shape[2] // 2 * 2
    crop = x[:, :h2, :w2].reshape(shape[0], h2 // 2, 2, w2 // 2, 2, shape[3])
    np.testing.assert_array_equal(y_nb, np.max(crop, axis=(2, 4)))
    np.testing.assert_array_equal(bits(gx_nb), bits(_first_max_gradient(x, g)))


def test_compiled_max_pool_signed_zero_follows_numpy_maximum():
    # np.maximum keeps the second of two equal values; the NumPy path combines rows first, then columns
    x = np.array([0.0, -0.0, -0.0, 0.0], "float32").reshape(1, 2, 2, 1)  # rows first: max(+0, -0), max(-0, +0)
    y_np, _ = _pool_and_grad(x, np.ones((1, 1, 1, 1), "float32"), compiled=False)
    y_nb, _ = _pool_and_grad(x, np.ones((1, 1, 1, 1), "float32"), compiled=True)
    assert np.signbit(y_np[0, 0, 0, 0]) == np.signbit(y_nb[0, 0, 0, 0])


@pytest.mark.parametrize("compiled", [False, True])
def test_strided_and_channels_first_inputs(compiled):
    """Non-contiguous inputs combine the maximum in row-major order (the NumPy path's order for them)."""
    base = _tricky_input((2, 8, 12, 8), "float32", seed=5)
    view = base[:, :, ::2, ::2]
    g = _tricky_gradient((2, 4, 3, 4), "float32", seed=6)
    y, gx = _pool_and_grad(view, g, compiled)
    y_ref, gx_ref = _pool_and_grad(view, g, compiled=False)
    np.testing.assert_array_equal(bits(y), bits(y_ref))
    np.testing.assert_array_equal(bits(gx), bits(_first_max_gradient(np.ascontiguousarray(view), g)))
    nchw = random_array((2, 3, 6, 8), seed=7)
    out = _pool_and_grad(nchw, np.ones((2, 3, 3, 4)), compiled, data_format="NCHW")[0]
    ref = reference_pool2d(nchw.transpose(0, 2, 3, 1), "max", (2, 2), (2, 2), "VALID").transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(out, ref)


def test_compiled_gradient_check_and_layer_training_match(monkeypatch):
    # the loss's own kernel (ops/_xent_compiled.py) agrees with NumPy to float rounding only: both runs keep the
    # NumPy cross-entropy, so the weights compare the pooling (and convolution) kernels bit for bit
    from featherflow.ops import _xent_compiled

    monkeypatch.setattr(_xent_compiled, "compiled_rows", lambda logits: None)
    _kernels.use_kernels(True)
    check_gradient(lambda x: ff.nn.max_pool2d(x, 2, 2, "VALID"), [random_array((2, 5, 6, 3), seed=8)])
    weights = []
    for compiled in (False, True):
        _kernels.use_kernels(compiled)
        ff.keras.utils.set_random_seed(3)
        model = ff.keras.Sequential([ff.keras.Input((12, 12, 1)), ff.keras.layers.Conv2D(4, 3, activation="relu"),
                                     ff.keras.layers.MaxPooling2D(), ff.keras.layers.Flatten(),
                                     ff.keras.layers.Dense(3)])
        model.compile("adam", ff.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        rng = np.random.default_rng(0)
        model.fit(rng.random((64, 12, 12, 1), dtype="float32"), rng.integers(0, 3, 64), epochs=2, batch_size=16,
                  verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("compiled", [False, True])
def test_other_gradient_dtype_and_empty_batch(compiled):
    # the tape casts gradients to the output's dtype; a backward rule called with another dtype still routes
    _kernels.use_kernels(compiled)
    x = _tricky_input((2, 6, 5, 3), "float32", seed=9)
    g = _tricky_gradient((2, 3, 2, 3), "float64", seed=10)
    xt = ff.constant(x)
    with ff.GradientTape() as tape:
        tape.watch(xt)
        ff.nn.max_pool2d(xt, 2, 2, "VALID")
    backward = tape._nodes[-1][2]
    with np.errstate(invalid="ignore"):
        (gx,) = backward(g, [True])
    assert gx.dtype == np.float64
    np.testing.assert_array_equal(bits(gx), bits(_first_max_gradient(x, g)))
    _, gx0 = _pool_and_grad(np.zeros((0, 4, 4, 2), "float32"), np.zeros((0, 2, 2, 2), "float32"), compiled)
    assert gx0.shape == (0, 4, 4, 2)


def test_threaded_batch_split_matches():
    # large enough for split_batch to hand slices to worker threads on a multi-core machine
    x = _tricky_input((8, 64, 64, 32), "float32", seed=11)
    g = _tricky_gradient((8, 32, 32, 32), "float32", seed=12)
    y_np, gx_np = _pool_and_grad(x, g, compiled=False)
    y_nb, gx_nb = _pool_and_grad(x, g, compiled=True)
    np.testing.assert_array_equal(bits(y_nb), bits(y_np))
    np.testing.assert_array_equal(bits(gx_nb), bits(gx_np))


def test_kernel_modes_and_min_size():
    _kernels.use_kernels(False)
    assert _kernels.get("max_pool_2x2", 10 ** 9) is None
    _kernels.use_kernels(True)
    assert _kernels.get("max_pool_2x2", 4) is not None
    _kernels.use_kernels(None)
    saved = _kernels._state["kernels"]
    try:
        _kernels._state["kernels"] = None  # as in a fresh process: small inputs do not load Numba
        assert _kernels.get("max_pool_2x2", _kernels.MIN_SIZE - 1) is None
        assert _kernels._state["kernels"] is None
        assert _kernels.get("max_pool_2x2", _kernels.MIN_SIZE) is not None
        assert _kernels.get("max_pool_2x2", 4) is not None  # once loaded, every size
    finally:
        _kernels._state["kernels"] = saved


def test_environment_switch_and_lazy_import():
    code = ("import sys, numpy as np, featherflow as ff\n"
            "from featherflow.ops import _kernels\n"
            "ff.nn.max_pool2d(np.ones((1, 4, 4, 1), 'float32'), 2, 2, 'VALID')\n"
            "print('numba' in sys.modules, _kernels.get('max_pool_2x2', 10 ** 9) is None)\n")
    env = dict(os.environ, FEATHERFLOW_NUMBA="0")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.split() == ["False", "True"], result.stderr
    env.pop("FEATHERFLOW_NUMBA")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.split() == ["False", "False"], result.stderr  # small input: Numba not imported


def test_a_traced_max_pool_runs_the_kernel(monkeypatch):
    """Inside a tf.function the kernel is chosen on the real array (the traced input is not an ndarray), so a
    compiled step pools with the same kernels as eager code, at every replay, with the eager kernels' bits."""
    _kernels.use_kernels(True)
    calls = {"max_pool_2x2_argmax": 0, "max_pool_2x2_grad": 0}
    kernels = _kernels._compiled()  # loaded now: the dict the kernels are looked up in
    for name in calls:  # count the real kernels' calls (each still runs)
        def counted(*args, _name=name, _kernel=kernels[name]):
            calls[_name] += 1
            return _kernel(*args)
        monkeypatch.setitem(kernels, name, counted)
    g = _tricky_gradient((3, 4, 4, 5), "float32", seed=22)

    @ff.function
    def pool_and_grad(xt, gt):
        with ff.GradientTape() as tape:
            tape.watch(xt)
            y = ff.nn.max_pool2d(xt, 2, 2, "VALID")
        return y, tape.gradient(y, xt, output_gradients=gt)

    pool_and_grad(ff.constant(_tricky_input((3, 8, 8, 5), "float32", seed=21)), ff.constant(g))
    x = _tricky_input((3, 8, 8, 5), "float32", seed=23)
    y, gx = pool_and_grad(ff.constant(x), ff.constant(g))
    assert pool_and_grad.experimental_get_tracing_count() == 1 and pool_and_grad.eager_fallback_reason is None
    assert calls == {"max_pool_2x2_argmax": 2, "max_pool_2x2_grad": 2}  # the trace and the replay
    y_eager, gx_eager = _pool_and_grad(x, g, compiled=True)
    np.testing.assert_array_equal(bits(y.numpy()), bits(y_eager))
    np.testing.assert_array_equal(bits(gx.numpy()), bits(gx_eager))
    _kernels.use_kernels(None)
