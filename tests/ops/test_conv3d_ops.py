"""conv3d, conv3d_transpose, max_pool3d, avg_pool3d: TensorFlow 2.21's outputs (tests/image/fixtures), an
independent loop definition, and the float64 gradient check."""

import image_reference
import numpy as np
import pytest
from gradcheck import check_gradient, random_array

from featherflow.ops.conv3d import avg_pool3d, conv3d, conv3d_transpose, max_pool3d

ref = image_reference.load()


def test_conv3d_matches_tensorflow():
    x, k = ref["vol/input"], ref["vol/kernel"]
    np.testing.assert_allclose(conv3d(x, k, [1, 2, 2, 2, 1], "SAME").numpy(), ref["vol/conv3d/same_s2"], atol=1e-5)
    np.testing.assert_allclose(conv3d(x, k, 1, "VALID").numpy(), ref["vol/conv3d/valid_s1"], atol=1e-5)
    np.testing.assert_allclose(conv3d(x, k, 1, "SAME", dilations=[1, 2, 1, 2, 1]).numpy(), ref["vol/conv3d/same_d2"],
                               atol=1e-5)


def test_conv3d_transpose_matches_tensorflow():
    x, k = ref["vol/input"], ref["vol/kernel_t"]
    np.testing.assert_allclose(conv3d_transpose(x, k, [1, 8, 10, 12, 4], [1, 2, 2, 2, 1], "SAME").numpy(),
                               ref["vol/conv3d_transpose/same_s2"], atol=1e-5)
    np.testing.assert_allclose(conv3d_transpose(x, k, [1, 9, 10, 13, 4], [1, 2, 2, 2, 1], "VALID").numpy(),
                               ref["vol/conv3d_transpose/valid_s2"], atol=1e-5)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool3d_matches_tensorflow(kind):
    x = ref["vol/input"]
    pool = max_pool3d if kind == "max" else avg_pool3d
    np.testing.assert_allclose(pool(x, [1, 2, 3, 2, 1], [1, 2, 2, 3, 1], "SAME").numpy(),
                               ref[f"vol/{kind}_pool3d/same"], atol=1e-6)
    np.testing.assert_allclose(pool(x, [1, 2, 2, 2, 1], [1, 1, 2, 2, 1], "VALID").numpy(),
                               ref[f"vol/{kind}_pool3d/valid"], atol=1e-6)


def _loop_conv3d(x, w, stride, dilation):
    n, d, h, wd, c = x.shape
    kd, kh, kw, _, f = w.shape
    od, oh, ow = ((s - (k - 1) * dilation - 1) // stride + 1 for s, k in zip((d, h, wd), (kd, kh, kw)))
    out = np.zeros((n, od, oh, ow, f))
    for a, b, e in np.ndindex(od, oh, ow):
        for i, j, k in np.ndindex(kd, kh, kw):
            patch = x[:, a * stride + i * dilation, b * stride + j * dilation, e * stride + k * dilation, :]
            out[:, a, b, e] += patch @ w[i, j, k]
    return out


@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2)])
def test_conv3d_equals_its_definition(stride, dilation):
    x, w = random_array((2, 5, 6, 5, 3), seed=1), random_array((2, 3, 2, 3, 4), seed=2)
    np.testing.assert_allclose(conv3d(x, w, stride, "VALID", dilations=dilation).numpy(),
                               _loop_conv3d(x, w, stride, dilation), rtol=1e-10, atol=1e-12)


def test_channels_first_and_errors():
    x, w = random_array((1, 4, 4, 4, 2)), random_array((2, 2, 2, 2, 3))
    first = conv3d(x.transpose(0, 4, 1, 2, 3), w, 1, "SAME", data_format="NCDHW").numpy()
    np.testing.assert_allclose(first.transpose(0, 2, 3, 4, 1), conv3d(x, w, 1, "SAME").numpy())
    pooled = max_pool3d(x.transpose(0, 4, 1, 2, 3), 2, 2, "VALID", data_format="NCDHW").numpy()
    np.testing.assert_array_equal(pooled.transpose(0, 2, 3, 4, 1), max_pool3d(x, 2, 2, "VALID").numpy())
    with pytest.raises(ValueError, match="5-D"):
        conv3d(x[0], w, 1, "SAME")
    with pytest.raises(ValueError, match="input depth"):
        conv3d(x, random_array((2, 2, 2, 3, 3)), 1, "SAME")
    with pytest.raises(ValueError, match="<= 0"):
        conv3d(x, random_array((5, 2, 2, 2, 3)), 1, "VALID")
    with pytest.raises(ValueError, match="data_format"):
        conv3d(x, w, 1, "SAME", data_format="NHWC")


@pytest.mark.parametrize("padding,strides,dilations", [("VALID", 1, 1), ("SAME", 2, 1), ("SAME", 1, 2),
                                                       ([[1, 0], [0, 1], [2, 1]], 1, 1)])
def test_conv3d_gradient(padding, strides, dilations):
    check_gradient(lambda x, w: conv3d(x, w, strides, padding, dilations=dilations),
                   [random_array((2, 4, 5, 4, 2), seed=3), random_array((2, 3, 2, 2, 3), seed=4)])


@pytest.mark.parametrize("padding,out", [("SAME", (2, 6, 8, 6, 3)), ("VALID", (2, 7, 8, 7, 3))])
def test_conv3d_transpose_gradient(padding, out):
    check_gradient(lambda x, w: conv3d_transpose(x, w, out, 2, padding),
                   [random_array((2, 3, 4, 3, 2), seed=5), random_array((3, 2, 3, 3, 2), seed=6)])


@pytest.mark.parametrize("pool", [max_pool3d, avg_pool3d])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_pool3d_gradient(pool, padding):
    check_gradient(lambda x: pool(x, [2, 3, 2], [2, 2, 1], padding), [random_array((2, 5, 5, 4, 2), seed=7)])
