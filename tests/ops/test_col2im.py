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


def test_single_channel_convolution_gradients_float64():
    x = random_array((2, 9, 9, 1), seed=1)
    kernel = random_array((4, 4, 1, 3), seed=2)
    check_gradient(lambda a, k: ff.nn.conv2d(a, k, strides=2, padding="SAME"), [x, kernel])
    up = random_array((2, 4, 4, 3), seed=3)
    kernel_t = random_array((4, 4, 1, 3), seed=4)  # (kh, kw, out_channels=1, in_channels=3)
    check_gradient(lambda a, k: ff.nn.conv2d_transpose(a, k, output_shape=(2, 8, 8, 1), strides=2, padding="SAME"),
                   [up, kernel_t])
