"""The compiled (Numba) im2col, col2im and ReLU-mask passes of the convolution against the NumPy path, bit
for bit, both paths in one process through ``featherflow.ops._kernels.use_kernels``."""

import numpy as np
import pytest
from bits import bits
from conv_reference import reference_conv2d
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.backend import blas
from featherflow.ops import _kernels, conv, conv_utils

pytest.importorskip("numba")
# The special values (NaN, inf) these tests feed are expected to make NaN products: each test says so with
# np.errstate, so that any other RuntimeWarning (a stray one in the test summary) fails.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")




def _both(fn):
    """``fn()`` with the kernels off and on, results copied (the pooled buffers are reused)."""
    results = []
    for compiled in (False, True):
        _kernels.use_kernels(compiled)
        results.append([None if r is None else np.array(r) for r in fn()])
    return results


def _specials(a, rng):
    """Signed zeros, infinities and NaN sprinkled into ``a`` (in place)."""
    flat = a.reshape(-1)
    for value in (-0.0, 0.0, np.inf, -np.inf, np.nan):
        flat[rng.integers(0, flat.size, max(1, flat.size // 50))] = value
    return a


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,k,strides,dilations,ones", [
    ((3, 13, 13, 32), (3, 3), (1, 1), (1, 1), True), ((2, 9, 11, 3), (2, 3), (2, 1), (1, 2), False),
    ((2, 10, 8, 4), (3, 2), (2, 3), (2, 1), True), ((1, 5, 5, 2), (5, 5), (1, 1), (1, 1), False)])
def test_im2col_and_col2im_match(dtype, shape, k, strides, dilations, ones):
    rng = np.random.default_rng(0)
    x = _specials(rng.standard_normal(shape).astype(dtype), rng)
    kh, kw = k
    ho = (shape[1] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    wo = (shape[2] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    numpy_cols, compiled_cols = _both(lambda: [conv_utils.im2col(x, kh, kw, strides, dilations, ho, wo, "t_cols", ones)])
    np.testing.assert_array_equal(bits(compiled_cols[0]), bits(numpy_cols[0]))
    # a strided (non-contiguous) input too
    view = np.repeat(x, 2, axis=2)[:, :, ::2]
    numpy_cols, compiled_cols = _both(lambda: [conv_utils.im2col(view, kh, kw, strides, dilations, ho, wo, "t_cols",
                                                            ones)])
    np.testing.assert_array_equal(bits(compiled_cols[0]), bits(numpy_cols[0]))
    blocks = _specials(rng.standard_normal((kh * kw, shape[0] * ho * wo, shape[3])).astype(dtype), rng)
    with np.errstate(invalid="ignore"):  # inf + -inf
        numpy_sum, compiled_sum = _both(lambda: [conv_utils.scatter_blocks(blocks, kh, kw, shape, strides, dilations, ho,
                                                                      wo, "t_dx")])
    np.testing.assert_array_equal(bits(compiled_sum[0]), bits(numpy_sum[0]))
    # and the sums against a plain loop in the same order (from +0.0, kernel positions row-major)
    ref = np.zeros(shape, dtype)
    b6 = blocks.reshape(kh, kw, shape[0], ho, wo, shape[3])
    with np.errstate(invalid="ignore"):
        for i in range(kh):
            for j in range(kw):
                ref[:, i * dilations[0]:i * dilations[0] + strides[0] * (ho - 1) + 1:strides[0],
                    j * dilations[1]:j * dilations[1] + strides[1] * (wo - 1) + 1:strides[1]] += b6[i, j]
    np.testing.assert_array_equal(bits(compiled_sum[0]), bits(ref))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("needs", [(True, True, True), (False, True, True), (True, False, False)])
def test_chunked_relu_backward_matches(dtype, needs):
    rng = np.random.default_rng(1)
    n, ho, wo, c, filters = 2, 9, 10, 3, 8
    z = np.maximum(_specials(rng.standard_normal((n * ho * wo, filters)).astype(dtype), rng), 0)
    g = _specials(rng.standard_normal((n, ho, wo, filters)).astype(dtype), rng)
    cols = rng.standard_normal((n * ho * wo, 2 * 2 * c + 1)).astype(dtype)
    wv = rng.standard_normal((2, 2, c, filters)).astype(dtype)
    with np.errstate(invalid="ignore"):
        numpy_out, compiled_out = _both(lambda: conv._relu_backward_chunked(g, z, cols, wv, 64, needs, True, 12, np))
    for a, b in zip(numpy_out, compiled_out):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(bits(b), bits(a))
    mask = (z > 0).astype(dtype)
    with np.errstate(invalid="ignore"):  # the specials (NaN, inf) make NaN products on purpose
        dz = g.reshape(-1, filters) * mask
        reference = (dz.T @ cols[:, :12]).T.reshape(wv.shape)
    if needs[1]:
        np.testing.assert_allclose(compiled_out[0], reference, rtol=1e-4)


@pytest.mark.parametrize("padding,strides,dilations", [("VALID", 1, 1), ("SAME", 2, 1), ("SAME", 1, 2)])
def test_conv_layer_step_matches_on_one_blas_thread(padding, strides, dilations):
    """A Conv2D(relu) forward and backward pass (the chunked ReLU backward needs one BLAS thread and more
    rows than a chunk), kernels on and off: same output and gradients, bit for bit."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 40, 40, 3)).astype("float32")
    kernel = rng.standard_normal((3, 3, 3, 16)).astype("float32") * 0.3
    bias = rng.standard_normal(16).astype("float32")
    g = rng.standard_normal((8,) + conv.conv2d_fused(x, kernel, bias, "relu", (strides, strides), padding,
                                                     (dilations, dilations)).shape[1:]).astype("float32")

    def step():
        xt, kt, bt = ff.constant(x), ff.Variable(kernel), ff.Variable(bias)
        with ff.GradientTape() as tape:
            tape.watch(xt)
            y = conv.conv2d_fused(xt, kt, bt, "relu", (strides, strides), padding, (dilations, dilations))
        return [y.numpy()] + [t.numpy() for t in tape.gradient(y, [xt, kt, bt], output_gradients=g)]

    threads = blas.get_num_threads()
    blas.set_num_threads(1)
    try:
        numpy_out, compiled_out = _both(step)
    finally:
        blas.set_num_threads(threads)
    for a, b in zip(numpy_out, compiled_out):
        np.testing.assert_array_equal(bits(b), bits(a))
    ref = reference_conv2d(x.astype("float64"), kernel.astype("float64"), (strides, strides), padding,
                           (dilations, dilations))
    np.testing.assert_allclose(compiled_out[0], np.maximum(ref + bias, 0), rtol=1e-4, atol=1e-4)


def test_compiled_conv_gradients_and_transpose():
    _kernels.use_kernels(True)
    x, w = random_array((2, 6, 7, 3), seed=3), random_array((3, 2, 3, 4), seed=4)
    check_gradient(lambda x, w: ff.nn.conv2d(x, w, 1, "SAME"), [x, w])
    check_gradient(lambda x, w: ff.nn.conv2d(x, w, 2, "VALID", dilations=1), [x, w])
    y = random_array((2, 3, 4, 4), seed=5)
    wt = random_array((2, 2, 3, 4), seed=6)
    out_shape = (2, 6, 8, 3)
    numpy_out, compiled_out = _both(lambda: [ff.nn.conv2d_transpose(y, wt, out_shape, 2, "VALID").numpy()])
    np.testing.assert_array_equal(bits(compiled_out[0]), bits(numpy_out[0]))
    check_gradient(lambda y, w: ff.nn.conv2d_transpose(y, w, out_shape, 2, "VALID"), [y, wt])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(4, 9, 7, 16), (0, 3, 3, 2), (3, 5)])
def test_unchunked_relu_gradient_matches(dtype, shape):
    """``_activation_grad`` (the ReLU mask when the conv GEMM is not chunked, e.g. on several BLAS threads)."""
    rng = np.random.default_rng(6)
    out = np.maximum(_specials(rng.standard_normal(shape).astype(dtype), rng), 0) if np.prod(shape) else \
        np.zeros(shape, dtype)
    g = _specials(rng.standard_normal(shape).astype(dtype), rng) if np.prod(shape) else np.zeros(shape, dtype)
    with np.errstate(invalid="ignore"):
        numpy_dz, compiled_dz = _both(lambda: [conv_utils.activation_grad(g, out, "relu", "t_act")])
        expected = g * (out > 0)
    np.testing.assert_array_equal(bits(compiled_dz[0]), bits(numpy_dz[0]))
    np.testing.assert_array_equal(bits(compiled_dz[0]), bits(expected))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("out_shape,k,strides,dilations,pads", [
    ((2, 14, 14, 32), (4, 4), (2, 2), (1, 1), ((1, 1), (1, 1))), ((1, 9, 8, 16), (3, 3), (1, 1), (2, 1), ((2, 2), (1, 1))),
    ((2, 10, 9, 17), (3, 2), (3, 2), (1, 1), ((0, 0), (0, 0))), ((1, 7, 6, 16), (2, 3), (2, 1), (1, 1), ((2, 1), (0, 3)))])
def test_cropped_col2im_matches(dtype, out_shape, k, strides, dilations, pads):
    """The many-channel col2im (one GEMM, added straight into the unpadded result): the Numba kernel and the
    NumPy loop give the same bits, and the same sums in the same order as scatter_blocks on the padded input."""
    from featherflow.ops._conv_col2im import col2im_cropped

    rng = np.random.default_rng(7)
    n, h, w, c = out_shape
    kh, kw = k
    (pt, pb), (pl, pr) = pads
    ho = (h + pt + pb - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    wo = (w + pl + pr - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    dy = _specials(rng.standard_normal((n * ho * wo, 5)).astype(dtype), rng)
    w_t = rng.standard_normal((5, kh * kw * c)).astype(dtype)
    with np.errstate(invalid="ignore"):  # inf + -inf, inf * 0
        numpy_out, compiled_out = _both(lambda: [col2im_cropped(dy, w_t, kh, kw, out_shape, pads, strides, dilations,
                                                                ho, wo, "t_cropped")])
        np.testing.assert_array_equal(bits(compiled_out[0]), bits(numpy_out[0]))
        blocks = np.ascontiguousarray((dy @ w_t).reshape(-1, kh * kw, c).transpose(1, 0, 2))
        padded = conv_utils.scatter_blocks(blocks, kh, kw, (n, h + pt + pb, w + pl + pr, c), strides, dilations, ho,
                                           wo, "t_padded")
    np.testing.assert_array_equal(bits(compiled_out[0]), bits(padded[:, pt:pt + h, pl:pl + w]))


def test_dcgan_shaped_conv_step_matches_on_one_blas_thread():
    """Conv2D(32 -> 64, 4x4, stride 2, SAME) and Conv2DTranspose(64 -> 32) forward and backward, kernels on and
    off: the same bits (the many-channel col2im of both)."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 14, 14, 32)).astype("float32")
    kernel = (rng.standard_normal((4, 4, 32, 64)) * 0.1).astype("float32")
    y = rng.standard_normal((4, 7, 7, 64)).astype("float32")
    kernel_t = (rng.standard_normal((4, 4, 32, 64)) * 0.1).astype("float32")

    def step():
        xt, kt, yt, ktt = ff.constant(x), ff.Variable(kernel), ff.constant(y), ff.Variable(kernel_t)
        with ff.GradientTape(persistent=True) as tape:
            tape.watch([xt, yt])
            a = ff.nn.conv2d(xt, kt, 2, "SAME")
            b = ff.nn.conv2d_transpose(yt, ktt, (4, 14, 14, 32), 2, "SAME")
            loss = ff.reduce_sum(a * a) + ff.reduce_sum(b * b)
        return [a.numpy(), b.numpy()] + [t.numpy() for t in tape.gradient(loss, [xt, kt, yt, ktt])]

    threads = blas.get_num_threads()
    blas.set_num_threads(1)
    try:
        numpy_out, compiled_out = _both(step)
    finally:
        blas.set_num_threads(threads)
    for a, b in zip(numpy_out, compiled_out):
        np.testing.assert_array_equal(bits(b), bits(a))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,k,strides,dilations,pads,ones", [
    ((2, 14, 14, 32), (4, 4), (2, 2), (1, 1), ((1, 1), (1, 1)), True), ((1, 9, 8, 3), (3, 3), (1, 1), (2, 1),
                                                                       ((2, 2), (1, 1)), False),
    ((2, 7, 9, 5), (3, 2), (3, 2), (1, 1), ((0, 2), (3, 0)), True), ((1, 6, 6, 1), (3, 3), (2, 2), (1, 1),
                                                                     ((1, 1), (1, 1)), True)])
def test_im2col_of_the_padded_input_matches(dtype, shape, k, strides, dilations, pads, ones):
    """im2col with ``pads`` (the compiled kernel reads the unpadded input and writes the zeros) against the NumPy
    path (pad, then copy) and the patch matrix of the explicitly padded input, bit for bit."""
    rng = np.random.default_rng(9)
    x = _specials(rng.standard_normal(shape).astype(dtype), rng)
    kh, kw = k
    (pt, pb), (pl, pr) = pads
    ho = (shape[1] + pt + pb - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    wo = (shape[2] + pl + pr - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    numpy_cols, compiled_cols = _both(lambda: [conv_utils.im2col(x, kh, kw, strides, dilations, ho, wo, "t_pcols", ones,
                                                                 pads=pads)])
    np.testing.assert_array_equal(bits(compiled_cols[0]), bits(numpy_cols[0]))
    padded = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    _kernels.use_kernels(False)
    expected = np.array(conv_utils.im2col(padded, kh, kw, strides, dilations, ho, wo, "t_ref", ones))
    np.testing.assert_array_equal(bits(compiled_cols[0]), bits(expected))
