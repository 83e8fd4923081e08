"""The convolutions' products on one BLAS thread and on several: the weight-gradient products
(``conv_utils.weight_product``, whose orientation differs) and the one-channel col2im's (always one thread) give
the gradients of the definition and of finite differences either way."""

import numpy as np
import pytest
from conv_reference import reference_conv2d_transpose
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.backend import blas
from featherflow.ops import conv, conv_utils, conv_variants


@pytest.fixture(params=[1, 2])
def blas_threads(request, monkeypatch):
    """The intra-op thread count pinned to 1 or 2 (conftest pins 1), and the thread counts the weight products
    ran with recorded."""
    if request.param > 1 and not blas.available():
        pytest.skip("the BLAS thread count cannot be set (not OpenBLAS)")
    seen = []
    product = conv_utils.weight_product

    def spy(cols, dz):
        seen.append(blas.get_num_threads())
        return product(cols, dz)

    for module in (conv_utils, conv, conv_variants):
        monkeypatch.setattr(module, "weight_product", spy)
    ff.config.threading.set_intra_op_parallelism_threads(request.param)
    yield request.param, seen
    ff.config.threading.set_intra_op_parallelism_threads(1)


def test_weight_product_is_the_transposed_product(blas_threads):
    rng = np.random.default_rng(0)
    cols = rng.standard_normal((300, 7)).astype("float32")
    dz = rng.standard_normal((300, 5)).astype("float32")
    threads, seen = blas_threads
    assert blas.get_num_threads() == threads
    got = conv_utils.weight_product(cols, dz)
    assert seen == [threads]
    assert got.shape == (7, 5)
    np.testing.assert_allclose(got, cols.astype("float64").T @ dz.astype("float64"), rtol=1e-5, atol=1e-5)


def test_conv_and_transposed_conv_weight_gradients(blas_threads):
    """Products large enough that the ops keep the thread count (``use_threads_for``)."""
    x = random_array((8, 14, 14, 16), seed=1)
    w = random_array((4, 4, 16, 32), seed=2)
    g = random_array((8, 7, 7, 32), seed=3)
    kernel = ff.Variable(w)
    with ff.GradientTape() as tape:
        y = ff.nn.conv2d(ff.constant(x), kernel, 2, "SAME")
    gw = tape.gradient(y, kernel, output_gradients=g).numpy()
    xpad = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    want = np.zeros_like(w)
    for i in range(4):
        for j in range(4):
            patch = xpad[:, i:i + 13:2, j:j + 13:2, :]  # (8, 7, 7, 16)
            want[i, j] = patch.reshape(-1, 16).T @ g.reshape(-1, 32)
    np.testing.assert_allclose(gw, want, rtol=1e-10, atol=1e-10)

    up = random_array((4, 7, 7, 32), seed=4)
    kt = random_array((4, 4, 16, 32), seed=5)
    np.testing.assert_allclose(ff.nn.conv2d_transpose(up, kt, (4, 14, 14, 16), 2, "SAME").numpy(),
                               reference_conv2d_transpose(up, kt, (14, 14), (2, 2), "SAME"), rtol=1e-10, atol=1e-10)
    check_gradient(lambda a, k: ff.nn.conv2d_transpose(a, k, (4, 14, 14, 16), 2, "SAME"), [up, kt], directions=2)
    check_gradient(lambda a, k: ff.nn.conv2d(a, k, 2, "SAME"), [random_array((2, 9, 9, 3), seed=6),
                                                                random_array((4, 4, 3, 5), seed=7)], directions=2)
    threads, seen = blas_threads
    assert seen[:2] == [threads, threads]  # the two large products ran on the pinned count


def test_one_channel_convolutions_on_either_thread_count(blas_threads):
    """The one-channel col2im's product runs on one BLAS thread whatever the count: the values stay those of the
    definition (a first conv's input gradient, an image-producing transposed conv)."""
    check_gradient(lambda a, k: ff.nn.conv2d(a, k, 2, "SAME"), [random_array((3, 12, 12, 1), seed=8),
                                                                random_array((4, 4, 1, 6), seed=9)], directions=2)
    up, kt = random_array((3, 6, 6, 6), seed=10), random_array((4, 4, 1, 6), seed=11)
    np.testing.assert_allclose(ff.nn.conv2d_transpose(up, kt, (3, 12, 12, 1), 2, "SAME").numpy(),
                               reference_conv2d_transpose(up, kt, (12, 12), (2, 2), "SAME"), rtol=1e-10, atol=1e-10)
    check_gradient(lambda a, k: ff.nn.conv2d_transpose(a, k, (3, 12, 12, 1), 2, "SAME"), [up, kt], directions=2)
