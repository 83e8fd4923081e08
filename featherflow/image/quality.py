"""Image measures: finite-difference gradients, Sobel edges, total variation, PSNR, SSIM and MS-SSIM.

All are differentiable compositions of ops (SSIM's Gaussian window is a depthwise convolution), as in TF.

>>> import numpy as np
>>> a = np.zeros((1, 4, 4, 1), "float32")
>>> float(psnr(a, a + 0.1, max_val=1.0).numpy()[0])  # doctest: +ELLIPSIS
20.0...
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.core.tensor import Tensor
from featherflow.image.color import convert_image_dtype
from featherflow.image.geometry import image_tensor
from featherflow.ops._convert import as_tensor


def image_gradients(image) -> tuple[Tensor, Tensor]:
    """``(dy, dx)``: forward differences ``I[y + 1, x] - I[y, x]`` and ``I[y, x + 1] - I[y, x]`` of a 4-D batch,
    zero in the last row / column.

    >>> import numpy as np
    >>> dy, dx = image_gradients(np.arange(4.0).reshape(1, 2, 2, 1))
    >>> dy.numpy()[0, :, :, 0], dx.numpy()[0, :, :, 0]
    (array([[2., 2.],
           [0., 0.]]), array([[1., 0.],
           [1., 0.]]))
    """
    image = image_tensor(image, "image_gradients", ranks=(4,))
    dy = image[:, 1:] - image[:, :-1]
    dx = image[:, :, 1:] - image[:, :, :-1]
    dy = ops.pad(dy, [[0, 0], [0, 1], [0, 0], [0, 0]])
    dx = ops.pad(dx, [[0, 0], [0, 0], [0, 1], [0, 0]])
    return dy, dx


def sobel_edges(image) -> Tensor:
    """Sobel responses ``(batch, rows, cols, channels, 2)``: ``[..., 0]`` vertical (``dy``), ``[..., 1]``
    horizontal (``dx``), with the image reflected by one pixel at the borders.

    >>> import numpy as np
    >>> sobel_edges(np.zeros((1, 3, 3, 2), "float32")).shape
    (1, 3, 3, 2, 2)
    """
    image = image_tensor(image, "sobel_edges", ranks=(4,))
    if image.dtype.kind != "f":
        image = ops.cast(image, "float32")
    padded = ops.pad(image, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    h, w = image.shape[1], image.shape[2]
    kernel_y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype="float64")
    outputs = []
    for kernel in (kernel_y, kernel_y.T):
        total = None
        for i in range(3):
            for j in range(3):
                if kernel[i, j]:
                    term = padded[:, i:i + h, j:j + w, :] * float(kernel[i, j])
                    total = term if total is None else total + term
        outputs.append(total)
    return ops.stack(outputs, axis=-1)


def total_variation(images, name=None) -> Tensor:
    """Sum of absolute differences between neighbouring pixels: a scalar for one image, ``(batch,)`` for a batch.

    >>> import numpy as np
    >>> float(total_variation(np.array([[[0.0], [1.0]], [[1.0], [3.0]]], "float32")).numpy())
    6.0
    """
    images = image_tensor(images, "total_variation", "images")
    rows, cols = images.ndim - 3, images.ndim - 2
    dy = images[:, 1:] - images[:, :-1] if rows == 1 else images[1:] - images[:-1]
    dx = images[:, :, 1:] - images[:, :, :-1] if rows == 1 else images[:, 1:] - images[:, :-1]
    axes = [rows, cols, images.ndim - 1]
    if images.dtype.kind in "iu":
        dy, dx = ops.cast(dy, "float32"), ops.cast(dx, "float32")
    return ops.reduce_sum(ops.abs(dy), axis=axes) + ops.reduce_sum(ops.abs(dx), axis=axes)


def _pair(img1, img2, op):
    img1, img2 = as_tensor(img1, op, "a"), as_tensor(img2, op, "b")
    if img1.ndim < 3 or img1.shape != img2.shape:
        raise ValueError(f"{op}: both images must have the same shape, at least 3-D (rows, cols, channels). "
                         f"Received: a.shape={tuple(img1.shape)}, b.shape={tuple(img2.shape)}")
    return img1, img2


def _to_float32(image, max_val):
    """TF's conversion of both images and ``max_val`` to float32 (float64 kept)."""
    if image.dtype == np.float64:
        return image, ops.constant(float(np.asarray(max_val)), dtype="float64")
    max_val = convert_image_dtype(ops.cast(max_val, image.dtype), "float32")
    return convert_image_dtype(image, "float32"), max_val


def psnr(a, b, max_val, name=None) -> Tensor:
    """Peak signal-to-noise ratio per image: ``20 log10(max_val) - 10 log10(mse)`` over the last three axes.

    >>> import numpy as np
    >>> psnr(np.zeros((2, 2, 1)), np.ones((2, 2, 1)), 1.0).numpy()
    array(0.)
    """
    a, b = _pair(a, b, "psnr")
    a, max_val = _to_float32(a, max_val)
    b, _ = _to_float32(b, 1.0)
    mse = ops.reduce_mean(ops.square(a - b), axis=[-3, -2, -1])
    log10 = np.log(10.0)
    return 20.0 * ops.log(max_val) / log10 - (10.0 / log10) * ops.log(mse)


def _gaussian_window(size: int, sigma: float, dtype) -> np.ndarray:
    coords = np.arange(size, dtype="float64") - (size - 1) / 2.0
    g = coords ** 2 * (-0.5 / sigma ** 2)
    g = (g[None, :] + g[:, None]).ravel()
    g = np.exp(g - g.max())
    return (g / g.sum()).reshape(size, size).astype(dtype)


def _ssim_per_channel(img1, img2, max_val, filter_size, filter_sigma, k1, k2, return_index_map=False):
    shape = img1.shape
    if shape[-3] < filter_size or shape[-2] < filter_size:
        raise ValueError(f"ssim: height and width must be >= filter_size ({filter_size}). Received: "
                         f"images.shape={tuple(shape)}")
    channels = shape[-1]
    window = _gaussian_window(filter_size, filter_sigma, img1.dtype.name)
    kernel = ops.constant(np.repeat(window[:, :, None, None], channels, axis=2))

    def reducer(x):
        flat = ops.reshape(x, (-1,) + tuple(shape[-3:]))
        y = ops.depthwise_conv2d(flat, kernel, [1, 1, 1, 1], "VALID")
        return ops.reshape(y, tuple(shape[:-3]) + tuple(y.shape[1:]))

    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    mean0, mean1 = reducer(img1), reducer(img2)
    num0 = mean0 * mean1 * 2.0
    den0 = ops.square(mean0) + ops.square(mean1)
    luminance = (num0 + c1) / (den0 + c1)
    num1 = reducer(img1 * img2) * 2.0
    den1 = reducer(ops.square(img1) + ops.square(img2))
    cs = (num1 - num0 + c2) / (den1 - den0 + c2)
    if return_index_map:
        return luminance * cs, cs
    return ops.reduce_mean(luminance * cs, axis=[-3, -2]), ops.reduce_mean(cs, axis=[-3, -2])


def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, return_index_map=False) -> Tensor:
    """Structural similarity (Wang et al. 2004) with a ``filter_size`` Gaussian window of ``filter_sigma``,
    averaged over the image and the channels (``return_index_map=True``: the per-pixel map).

    ``SSIM = (2 mu_x mu_y + c1)(2 cov_xy + c2) / ((mu_x^2 + mu_y^2 + c1)(var_x + var_y + c2))``,
    ``c1 = (k1 max_val)^2``, ``c2 = (k2 max_val)^2``.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).uniform(size=(16, 16, 1)).astype("float32")
    >>> round(float(ssim(x, x, 1.0).numpy()), 5)
    1.0
    """
    img1, img2 = _pair(img1, img2, "ssim")
    img1, max_val_t = _to_float32(img1, max_val)
    img2, _ = _to_float32(img2, 1.0)
    max_val = float(max_val_t.numpy())
    values, _ = _ssim_per_channel(img1, img2, max_val, int(filter_size), float(filter_sigma), k1, k2,
                                  return_index_map)
    return ops.reduce_mean(values, axis=-1)


_MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ssim_multiscale(img1, img2, max_val, power_factors=_MSSSIM_WEIGHTS, filter_size=11, filter_sigma=1.5, k1=0.01,
                    k2=0.03) -> Tensor:
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003): contrast-structure terms at ``len(power_factors)``
    scales (2x2 average pooling between scales, odd sizes padded symmetrically) and SSIM at the coarsest,
    combined as ``prod(relu(term) ** power_factors)`` and averaged over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).uniform(size=(1, 24, 24, 1)).astype("float32")
    >>> round(float(ssim_multiscale(x, x, 1.0, power_factors=(0.5, 0.5), filter_size=5).numpy()[0]), 5)
    1.0
    """
    img1, img2 = _pair(img1, img2, "ssim_multiscale")
    img1, max_val_t = _to_float32(img1, max_val)
    img2, _ = _to_float32(img2, 1.0)
    max_val = float(max_val_t.numpy())
    head = tuple(img1.shape[:-3])
    images = [img1, img2]
    terms = []
    for scale in range(len(power_factors)):
        if scale > 0:
            tail = images[0].shape[-3:]
            flat = [ops.reshape(x, (-1,) + tuple(tail)) for x in images]
            rem_h, rem_w = tail[0] % 2, tail[1] % 2
            if rem_h or rem_w:
                flat = [ops.pad(x, [[0, 0], [0, rem_h], [0, rem_w], [0, 0]], mode="SYMMETRIC") for x in flat]
            pooled = [ops.avg_pool2d(x, 2, 2, "VALID") for x in flat]
            images = [ops.reshape(x, head + tuple(x.shape[1:])) for x in pooled]
        value, cs = _ssim_per_channel(images[0], images[1], max_val, int(filter_size), float(filter_sigma), k1, k2)
        terms.append(ops.relu(cs))
    terms[-1] = ops.relu(value)
    stacked = ops.stack(terms, axis=-1)
    weights = ops.constant(np.asarray(power_factors, dtype=stacked.dtype.name))
    return ops.reduce_mean(ops.reduce_prod(ops.pow(stacked, weights), axis=-1), axis=-1)
