"""The many-channel col2im (a convolution's input gradient, a transposed convolution's forward pass) a few images
at a time (``conv_utils.CHUNK_BYTES``): against the definition in float64, finite differences, the Numba kernel
and the NumPy loop bit for bit, and the same bits for every thread split and every call."""

import numpy as np
import pytest
from bits import bits
from conv_reference import reference_conv2d_transpose
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.backend import blas
from featherflow.ops import _kernels, conv_utils
from featherflow.ops._conv_col2im import col2im_cropped


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of one or two images at the test shapes (the default is 512 KiB of patch matrix)."""
    monkeypatch.setattr(conv_utils, "CHUNK_BYTES", 4096)


def _input_gradient_reference(g, w, x_shape, strides, pads):
    """Each output's gradient sent back through the kernel taps (float64), from the definition."""
    ref = np.zeros(x_shape)
    for r in range(g.shape[1]):
        for s in range(g.shape[2]):
            for i in range(w.shape[0]):
                for j in range(w.shape[1]):
                    row, col = r * strides[0] + i - pads[0], s * strides[1] + j - pads[1]
                    if 0 <= row < x_shape[1] and 0 <= col < x_shape[2]:
                        ref[:, row, col, :] += g[:, r, s, :] @ w[i, j].T
    return ref


@pytest.mark.parametrize("compiled", [False, True])
def test_chunked_input_gradient_and_transpose_match_the_definition(small_chunks, compiled):
    x, w = random_array((5, 9, 8, 16), seed=1), random_array((4, 4, 16, 6), seed=2)
    assert conv_utils.images_per_chunk(5 * 4 * 4 * 4 * 16 * 8, 5) < 5  # the patch gradients do go in chunks
    _kernels.use_kernels(compiled)
    try:
        xt = ff.constant(x)
        g = random_array((5, 5, 4, 6), seed=3)
        with ff.GradientTape() as tape:
            tape.watch(xt)
            y = ff.nn.conv2d(xt, w, 2, "SAME")
        gx = tape.gradient(y, xt, output_gradients=g).numpy()
        check_gradient(lambda a, k: ff.nn.conv2d(a, k, 2, "SAME"), [x, w])
        up, kt = random_array((5, 4, 4, 8), seed=4), random_array((4, 4, 16, 8), seed=5)
        out = ff.nn.conv2d_transpose(up, kt, (5, 8, 8, 16), 2, "SAME").numpy()
        check_gradient(lambda a, k: ff.nn.conv2d_transpose(a, k, (5, 8, 8, 16), 2, "SAME"), [up, kt])
    finally:
        _kernels.use_kernels(None)
    np.testing.assert_allclose(gx, _input_gradient_reference(g, w, x.shape, (2, 2), (1, 1)), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(out, reference_conv2d_transpose(up, kt, (8, 8), (2, 2), "SAME"), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.skipif(not _kernels.available(), reason="Numba is not installed: NumPy path only")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_chunked_col2im_same_bits_with_and_without_numba_and_for_every_split(small_chunks, monkeypatch, dtype,
                                                                            workers):
    rng = np.random.default_rng(5)
    n, ho, wo, f, c = 7, 5, 4, 6, 16
    dy = rng.standard_normal((n * ho * wo, f)).astype(dtype)
    w_t = rng.standard_normal((f, 4 * 4 * c)).astype(dtype)

    def run():
        return np.array(col2im_cropped(dy, w_t, 4, 4, (n, 10, 8, c), ((1, 1), (1, 1)), (2, 2), (1, 1), ho, wo,
                                       "t_chunks"))

    threads = blas.get_num_threads()
    try:
        monkeypatch.setitem(conv_utils._THREADS, "workers", 1)
        _kernels.use_kernels(False)
        want = run()
        monkeypatch.setitem(conv_utils._THREADS, "workers", workers)
        monkeypatch.setattr(conv_utils, "PARALLEL_MIN_WORK", 1)
        _kernels.use_kernels(True)
        got = run()
        again = run()
    finally:
        _kernels.use_kernels(None)
        blas.set_num_threads(threads)
    np.testing.assert_array_equal(bits(got), bits(want))
    np.testing.assert_array_equal(bits(again), bits(want))
    whole = (dy.astype("float64") @ w_t.astype("float64")).reshape(n, ho, wo, 4, 4, c)
    ref = np.zeros((n, 10, 8, c))
    for i in range(4):
        for j in range(4):
            for r in range(ho):
                for s in range(wo):
                    row, col = 2 * r + i - 1, 2 * s + j - 1
                    if 0 <= row < 10 and 0 <= col < 8:
                        ref[:, row, col] += whole[:, r, s, i, j]
    np.testing.assert_allclose(got, ref, rtol=1e-4 if dtype == "float32" else 1e-12,
                               atol=1e-4 if dtype == "float32" else 1e-12)


def test_chunk_size_depends_on_the_shapes_only(monkeypatch):
    monkeypatch.setattr(conv_utils, "CHUNK_BYTES", 1 << 19)
    assert conv_utils.images_per_chunk(49 * 16 * 32 * 4, 64) == 5  # the DCGAN discriminator's input gradient
    assert conv_utils.images_per_chunk(1 << 20, 64) == 1
    assert conv_utils.images_per_chunk(100, 3) == 3
    monkeypatch.setattr(conv_utils, "CHUNK_BYTES", 0)
    assert conv_utils.images_per_chunk(100, 64) == 64
