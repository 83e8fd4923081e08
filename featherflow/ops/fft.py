"""Discrete Fourier transforms (``tf.signal``'s FFT family), differentiable to any order.

Complex transforms take complex64/complex128 input (real input is refused, as in TensorFlow); ``rfft*``
take float32/float64 and return the non-negative frequencies (``fft_length // 2 + 1`` bins on the last
axis), ``irfft*`` invert them. ``fft_length`` crops or zero-pads the transformed axes first.

Gradients use TensorFlow's convention for complex numbers (``dL/dRe + i dL/dIm``), under which the
gradient of a linear map is its adjoint: ``fft -> n * ifft``; ``rfft -> Re(n * ifft(zero-filled g))``;
``irfft -> rfft(g) * [1, 2, ..., 2, 1] / n``. Each rule calls the transforms themselves, so gradients
of gradients work.

>>> import featherflow as ff
>>> ff.signal.rfft([1.0, 2.0, 3.0, 4.0]).numpy()
array([10.+0.j, -2.+2.j, -2.+0.j], dtype=complex64)
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.arrays import array_module
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.gradients import register_gradient
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops._dual import record_op

_COMPLEX = {np.dtype("float32"): np.dtype("complex64"), np.dtype("float64"): np.dtype("complex128")}
_REAL = {v: k for k, v in _COMPLEX.items()}
_DUAL_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _complex_input(x, op):
    t = as_tensor(x, op, "input")
    if t.value.dtype.kind != "c":
        raise InvalidArgumentError(None, None, f"{op}: the input must be complex64 or complex128. Received dtype "
                                   f"{t.value.dtype.name}; cast it with featherflow.cast(x, 'complex64').")
    return t


def _real_input(x, op):
    t = as_tensor(x, op, "input_tensor")
    if t.value.dtype not in _COMPLEX:
        raise InvalidArgumentError(None, None, f"{op}: the input must be float32 or float64. Received dtype "
                                   f"{t.value.dtype.name}.")
    return t


def _axes_and_lengths(x, rank, fft_length, axes, op, last_is_half=False):
    ndim = x.value.ndim
    if axes is None:
        axes = list(range(ndim - rank, ndim)) if rank else list(range(ndim))
    axes = [int(a) % ndim for a in (axes.value.tolist() if isinstance(axes, Tensor) else axes)]
    if len(axes) > ndim or ndim == 0:
        raise InvalidArgumentError(None, None, f"{op}: the input must have rank >= {len(axes)}. Received: shape="
                                   f"{x.value.shape}")
    if fft_length is None:
        lengths = [x.value.shape[a] for a in axes]
        if last_is_half:
            lengths[-1] = 2 * (x.value.shape[axes[-1]] - 1)
    else:
        values = fft_length.value.tolist() if isinstance(fft_length, Tensor) else fft_length
        lengths = [int(v) for v in (values if isinstance(values, (list, tuple)) else [values])]
        if len(lengths) != len(axes):
            raise ValueError(f"{op}: fft_length needs one length per transformed axis ({len(axes)}). Received: "
                             f"fft_length={values}")
    return axes, lengths


def _norm(norm):
    norm = "backward" if norm is None else str(norm)
    if norm not in _DUAL_NORM:
        raise ValueError(f'norm must be None, "backward", "ortho" or "forward". Received: norm={norm!r}')
    return norm


def _complex_transform(x, op_name, inverse, rank, fft_length=None, axes=None, norm=None):
    xv = x.value
    axes, lengths = _axes_and_lengths(x, rank, fft_length, axes, op_name)
    norm = _norm(norm)
    xp = array_module(xv)
    fn = xp.fft.ifftn if inverse else xp.fft.fftn
    out = fn(xv, s=lengths, axes=axes, norm=norm).astype(xv.dtype, copy=False)
    attrs = {"inverse": inverse, "axes": axes, "lengths": lengths, "norm": norm, "in_shape": xv.shape}
    return record_op("fft_complex", (x,), out, attrs)


def _fit(t, axes, shape):
    """Crop or zero-pad ``t`` along ``axes`` to the sizes of ``shape`` (the adjoint of ``fft_length``'s fit)."""
    from featherflow.ops.indexing import getitem
    from featherflow.ops.pad import pad

    current = t.value.shape
    crop = [slice(None)] * len(current)
    pads = [[0, 0] for _ in current]
    changed = False
    for a in axes:
        if current[a] > shape[a]:
            crop[a] = slice(0, shape[a])
            changed = True
        elif current[a] < shape[a]:
            pads[a] = [0, shape[a] - current[a]]
            changed = True
    if not changed:
        return t
    t = getitem(t, tuple(crop))
    return pad(t, pads) if any(p[1] for p in pads) else t


@register_gradient("fft_complex")
def _fft_complex_rule(op, g):
    c = op.captured["attrs"]
    # the adjoint of fftn is ifftn with the dual normalization (and the reverse)
    grad = fftnd(g, None, c["axes"], _DUAL_NORM[c["norm"]]) if c["inverse"] else \
        ifftnd(g, None, c["axes"], _DUAL_NORM[c["norm"]])
    return (_fit(grad, c["axes"], c["in_shape"]),)


def fft(input, name=None) -> Tensor:  # noqa: A002 - TensorFlow's name
    """The DFT of the innermost axis of a complex tensor.

    >>> import featherflow as ff
    >>> fft(ff.constant([1.0 + 0j, 0j, 0j, 0j])).numpy()
    array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    return _complex_transform(_complex_input(input, "fft"), "fft", False, 1)


def ifft(input, name=None) -> Tensor:  # noqa: A002
    """The inverse DFT of the innermost axis (scaled by ``1/n``).

    >>> import featherflow as ff
    >>> ifft(ff.constant([4.0 + 0j, 0j, 0j, 0j])).numpy()
    array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    return _complex_transform(_complex_input(input, "ifft"), "ifft", True, 1)


def fft2d(input, name=None) -> Tensor:  # noqa: A002
    """The 2-D DFT of the two innermost axes.

    >>> import featherflow as ff
    >>> fft2d(ff.ones((2, 2), "complex64")).numpy()
    array([[4.+0.j, 0.+0.j],
           [0.+0.j, 0.+0.j]], dtype=complex64)
    """
    return _complex_transform(_complex_input(input, "fft2d"), "fft2d", False, 2)


def ifft2d(input, name=None) -> Tensor:  # noqa: A002
    """The 2-D inverse DFT of the two innermost axes.

    >>> import featherflow as ff
    >>> ifft2d(ff.ones((2, 2), "complex64")).numpy()
    array([[1.+0.j, 0.+0.j],
           [0.+0.j, 0.+0.j]], dtype=complex64)
    """
    return _complex_transform(_complex_input(input, "ifft2d"), "ifft2d", True, 2)


def fft3d(input, name=None) -> Tensor:  # noqa: A002
    """The 3-D DFT of the three innermost axes.

    >>> import featherflow as ff
    >>> fft3d(ff.ones((2, 2, 2), "complex64")).numpy()[0, 0, 0]
    np.complex64(8+0j)
    """
    return _complex_transform(_complex_input(input, "fft3d"), "fft3d", False, 3)


def ifft3d(input, name=None) -> Tensor:  # noqa: A002
    """The 3-D inverse DFT of the three innermost axes.

    >>> import featherflow as ff
    >>> ifft3d(ff.ones((2, 2, 2), "complex64")).numpy()[0, 0, 0]
    np.complex64(1+0j)
    """
    return _complex_transform(_complex_input(input, "ifft3d"), "ifft3d", True, 3)


def fftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None) -> Tensor:
    """The N-D DFT over ``axes`` (default all), each axis cropped/padded to ``fft_length`` first.

    >>> import featherflow as ff
    >>> fftnd(ff.ones((2, 3), "complex128"), axes=[1]).numpy()[:, 0]
    array([3.+0.j, 3.+0.j])
    """
    x = _complex_input(input_tensor, "fftnd")
    return _complex_transform(x, "fftnd", False, 0, fft_length, axes, norm)


def ifftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None) -> Tensor:
    """The N-D inverse DFT over ``axes`` (default all).

    >>> import featherflow as ff
    >>> ifftnd(ff.ones((2, 3), "complex128")).numpy()[0, 0]
    np.complex128(1+0j)
    """
    x = _complex_input(input_tensor, "ifftnd")
    return _complex_transform(x, "ifftnd", True, 0, fft_length, axes, norm)


def _real_forward(x, op_name, rank, fft_length=None, axes=None, norm=None):
    xv = x.value
    axes, lengths = _axes_and_lengths(x, rank, fft_length, axes, op_name)
    norm = _norm(norm)
    xp = array_module(xv)
    out = xp.fft.rfftn(xv, s=lengths, axes=axes, norm=norm).astype(_COMPLEX[xv.dtype])
    attrs = {"axes": axes, "lengths": lengths, "norm": norm, "in_shape": xv.shape}
    return record_op("rfft", (x,), out, attrs)


@register_gradient("rfft")
def _rfft_rule(op, g):
    from featherflow.ops.complex import real

    c = op.captured["attrs"]
    axes, lengths = c["axes"], c["lengths"]
    # H^T: zero-fill the dropped negative frequencies of the last axis, then the adjoint of the full fftn
    full_shape = list(g.value.shape)
    full_shape[axes[-1]] = lengths[-1]
    filled = _fit(g, [axes[-1]], full_shape)
    grad = real(ifftnd(filled, None, axes, _DUAL_NORM[c["norm"]]))
    return (_fit(grad, axes, c["in_shape"]),)


def _real_inverse(x, op_name, rank, fft_length=None, axes=None, norm=None):
    xv = x.value
    axes, lengths = _axes_and_lengths(x, rank, fft_length, axes, op_name, last_is_half=True)
    norm = _norm(norm)
    xp = array_module(xv)
    out = xp.fft.irfftn(xv, s=lengths, axes=axes, norm=norm).astype(_REAL[xv.dtype])
    attrs = {"axes": axes, "lengths": lengths, "norm": norm, "in_shape": xv.shape}
    return record_op("irfft", (x,), out, attrs)


@register_gradient("irfft")
def _irfft_rule(op, g):
    from featherflow.ops.complex import complex as make_complex

    c = op.captured["attrs"]
    axes, lengths = c["axes"], c["lengths"]
    n = lengths[-1]
    bins = n // 2 + 1
    # irfftn = (inverse fft over the leading axes) o irfft; irfft's real-linear adjoint doubles the paired bins
    spectrum = rfftnd(g, None, axes, _DUAL_NORM[c["norm"]])
    weights = np.full(bins, 2.0)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    shape = [1] * g.value.ndim
    shape[axes[-1]] = bins
    w = weights.reshape(shape).astype(g.value.dtype)
    grad = spectrum * make_complex(Tensor(w), Tensor(np.zeros_like(w)))
    return (_fit(grad, axes, c["in_shape"]),)


def rfft(input_tensor, fft_length=None, name=None) -> Tensor:
    """The DFT of a real signal's innermost axis: ``fft_length // 2 + 1`` complex bins.

    >>> rfft([1.0, 0.0, 0.0, 0.0]).numpy()
    array([1.+0.j, 1.+0.j, 1.+0.j], dtype=complex64)
    """
    return _real_forward(_real_input(input_tensor, "rfft"), "rfft", 1, fft_length)


def irfft(input_tensor, fft_length=None, name=None) -> Tensor:
    """The real signal of length ``fft_length`` (default ``2 * (bins - 1)``) whose ``rfft`` is the input.

    >>> import featherflow as ff
    >>> irfft(ff.constant([1.0 + 0j, 1.0 + 0j, 1.0 + 0j])).numpy()
    array([1., 0., 0., 0.])
    """
    return _real_inverse(_complex_input(input_tensor, "irfft"), "irfft", 1, fft_length)


def rfft2d(input_tensor, fft_length=None, name=None) -> Tensor:
    """The 2-D DFT of a real tensor's two innermost axes (the last one halved).

    >>> import featherflow as ff
    >>> rfft2d(ff.ones((2, 4))).shape
    (2, 3)
    """
    return _real_forward(_real_input(input_tensor, "rfft2d"), "rfft2d", 2, fft_length)


def irfft2d(input_tensor, fft_length=None, name=None) -> Tensor:
    """The inverse of ``rfft2d``.

    >>> import featherflow as ff
    >>> irfft2d(rfft2d(ff.ones((2, 4)))).numpy()
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.]], dtype=float32)
    """
    return _real_inverse(_complex_input(input_tensor, "irfft2d"), "irfft2d", 2, fft_length)


def rfft3d(input_tensor, fft_length=None, name=None) -> Tensor:
    """The 3-D DFT of a real tensor's three innermost axes (the last one halved).

    >>> import featherflow as ff
    >>> rfft3d(ff.ones((2, 2, 4))).shape
    (2, 2, 3)
    """
    return _real_forward(_real_input(input_tensor, "rfft3d"), "rfft3d", 3, fft_length)


def irfft3d(input_tensor, fft_length=None, name=None) -> Tensor:
    """The inverse of ``rfft3d``.

    >>> import featherflow as ff
    >>> irfft3d(rfft3d(ff.ones((2, 2, 4)))).shape
    (2, 2, 4)
    """
    return _real_inverse(_complex_input(input_tensor, "irfft3d"), "irfft3d", 3, fft_length)


def rfftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None) -> Tensor:
    """The N-D DFT of a real tensor over ``axes`` (default all; the last one halved).

    >>> import featherflow as ff
    >>> rfftnd(ff.ones((2, 4))).shape
    (2, 3)
    """
    return _real_forward(_real_input(input_tensor, "rfftnd"), "rfftnd", 0, fft_length, axes, norm)


def irfftnd(input_tensor, fft_length=None, axes=None, norm=None, name=None) -> Tensor:
    """The inverse of ``rfftnd``.

    >>> import featherflow as ff
    >>> irfftnd(rfftnd(ff.ones((2, 4)))).shape
    (2, 4)
    """
    return _real_inverse(_complex_input(input_tensor, "irfftnd"), "irfftnd", 0, fft_length, axes, norm)


def fftshift(x, axes=None, name=None) -> Tensor:
    """Move the zero frequency to the center (a ``roll`` by half of each axis).

    >>> fftshift([0, 1, 2, 3, 4]).numpy()
    array([3, 4, 0, 1, 2], dtype=int32)
    """
    from featherflow.ops.slicing import roll

    t = as_tensor(x, "fftshift", "x")
    axes = list(range(t.value.ndim)) if axes is None else ([axes] if isinstance(axes, int) else list(axes))
    return roll(t, [t.value.shape[a] // 2 for a in axes], axes)


def ifftshift(x, axes=None, name=None) -> Tensor:
    """The inverse of ``fftshift``.

    >>> ifftshift([3, 4, 0, 1, 2]).numpy()
    array([0, 1, 2, 3, 4], dtype=int32)
    """
    from featherflow.ops.slicing import roll

    t = as_tensor(x, "ifftshift", "x")
    axes = list(range(t.value.ndim)) if axes is None else ([axes] if isinstance(axes, int) else list(axes))
    return roll(t, [-(t.value.shape[a] // 2) for a in axes], axes)
