"""col2im (the scatter-add of patch gradients: a convolution's input gradient, a transposed convolution's forward)
with one channel, which takes one GEMM with dy^T instead of kh*kw matrix-vector products, and with several."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.ops import conv_utils


def reference_col2im(dy, kernel_blocks, padded_shape, strides, ho, wo):
    kh, kw, _, c = kernel_blocks.shape
    n = padded_shape[0]
    out = np.zeros(padded_shape, np.float64)
    for i in range(kh):
        for j in range(kw):
            block = (dy.astype(np.float64) @ kernel_blocks[i, j].astype(np.float64)).reshape(n, ho, wo, c)
            out[:, i:i + strides[0] * (ho - 1) + 1:strides[0], j:j + strides[1] * (wo - 1) + 1:strides[1]] += block
    return out


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_col2im_matches_the_per_position_products(channels, dtype):
    rng = np.random.default_rng(0)
    n, ho, wo, f, (kh, kw), strides = 2, 5, 6, 7, (4, 3), (2, 1)
    padded = (n, strides[0] * (ho - 1) + kh, strides[1] * (wo - 1) + kw, channels)
    dy = rng.standard_normal((n * ho * wo, f)).astype(dtype)
    kernel = rng.standard_normal((kh, kw, f, channels)).astype(dtype)
    out = conv_utils.col2im(dy, kernel, padded, strides, (1, 1), ho, wo, "t_col2im")
    assert out.shape == padded and out.dtype == dtype
    np.testing.assert_allclose(out, reference_col2im(dy, kernel, padded, strides, ho, wo),
                               rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("compiled", [None, True])
def test_single_channel_convolution_gradients_float64(compiled):
    from featherflow.ops import _kernels

    _kernels.use_kernels(compiled)
    try:
        _single_channel_gradients()
    finally:
        _kernels.use_kernels(None)


def _single_channel_gradients():
    x = random_array((2, 9, 9, 1), seed=1)
    kernel = random_array((4, 4, 1, 3), seed=2)
    check_gradient(lambda a, k: ff.nn.conv2d(a, k, strides=2, padding="SAME"), [x, kernel])
    up = random_array((2, 4, 4, 3), seed=3)
    kernel_t = random_array((4, 4, 1, 3), seed=4)  # (kh, kw, out_channels=1, in_channels=3)
    check_gradient(lambda a, k: ff.nn.conv2d_transpose(a, k, output_shape=(2, 8, 8, 1), strides=2, padding="SAME"),
                   [up, kernel_t])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("padded_shape,k,strides,dilations,pads", [
    ((3, 16, 16, 1), (4, 4), (2, 2), (1, 1), ((1, 1), (1, 1))), ((2, 11, 9, 1), (3, 2), (2, 3), (2, 1), ((2, 0), (1, 2))),
    ((1, 7, 7, 1), (3, 3), (1, 1), (1, 1), ((0, 0), (0, 0)))])
def test_one_channel_col2im_into_the_cropped_result_matches(dtype, padded_shape, k, strides, dilations, pads):
    """col2im_crop with one channel (the compiled kernel adds straight into the cropped result) against the NumPy
    path (scatter into the padded input, then crop): the same bits, specials included; and the definition."""
    from bits import bits

    from featherflow.ops import _kernels

    pytest.importorskip("numba")
    rng = np.random.default_rng(3)
    n, hp, wp, _ = padded_shape
    kh, kw = k
    ho = (hp - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    wo = (wp - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    dy = rng.standard_normal((n * ho * wo, 5)).astype(dtype)
    dy.reshape(-1)[rng.integers(0, dy.size, 6)] = [np.inf, -np.inf, np.nan, -0.0, 0.0, np.inf]
    kernel = rng.standard_normal((kh, kw, 5, 1)).astype(dtype)
    results = []
    with np.errstate(invalid="ignore"):
        for compiled in (False, True):
            _kernels.use_kernels(compiled)
            try:
                results.append(np.array(conv_utils.col2im_crop(dy, kernel, padded_shape, pads, strides, dilations, ho,
                                                               wo, "t_crop1")))
            finally:
                _kernels.use_kernels(None)
    np.testing.assert_array_equal(bits(results[1]), bits(results[0]))
    finite = np.nan_to_num(dy, nan=0.0, posinf=0.0, neginf=0.0)
    (pt, pb), (pl, pr) = pads
    ref = np.zeros(padded_shape)
    for i in range(kh):
        for j in range(kw):
            block = (finite.astype(np.float64) @ kernel[i, j].astype(np.float64)).reshape(n, ho, wo, 1)
            ref[:, i * dilations[0]:i * dilations[0] + strides[0] * (ho - 1) + 1:strides[0],
                j * dilations[1]:j * dilations[1] + strides[1] * (wo - 1) + 1:strides[1]] += block
    _kernels.use_kernels(True)
    try:
        got = conv_utils.col2im_crop(finite, kernel, padded_shape, pads, strides, dilations, ho, wo, "t_crop1")
    finally:
        _kernels.use_kernels(None)
    np.testing.assert_allclose(got, ref[:, pt:hp - pb, pl:wp - pr], rtol=1e-4 if dtype == "float32" else 1e-12,
                               atol=1e-4 if dtype == "float32" else 1e-12)
