"""Signal processing built on the FFT ops: windows, framing, STFT, DCT/MDCT, mel filter banks, MFCCs.

Everything is a composition of differentiable ops (slicing, products, ``rfft``/``irfft``, matrix products
with a fixed DCT matrix), so gradients flow through all of it. Conventions follow TensorFlow: ``frame``
keeps only full frames unless ``pad_end``; windows of odd length are always symmetric (``periodic``
applies to even lengths); the DCT types 1-4 are SciPy's unnormalized ones (``norm="ortho"`` for 2-4) and
``idct`` is the DCT of the inverse type, unscaled.

>>> import featherflow as ff
>>> ff.signal.hann_window(4).numpy()
array([0. , 0.5, 1. , 0.5], dtype=float32)
"""

from __future__ import annotations

import math

import numpy as np

from featherflow.backend.arrays import floatx
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor
from featherflow.ops.fft import irfft, rfft


def _length(value, op, arg):
    value = int(value.value if isinstance(value, Tensor) else value)
    if value < 0:
        raise ValueError(f"{op}: `{arg}` must be non-negative. Received: {arg}={value}")
    return value


def _dtype(dtype):
    return np.dtype(floatx() if dtype is None else dtype)


def _raised_cosine(window_length, periodic, dtype, a, b, op):
    length = _length(window_length, op, "window_length")
    dtype = _dtype(dtype)
    if length == 1:
        return Tensor(np.ones(1, dtype=dtype))
    denominator = length - 1 + (1 if periodic and length % 2 == 0 else 0)
    n = np.arange(length)
    return Tensor((a - b * np.cos(2 * np.pi * n / denominator)).astype(dtype))


def hann_window(window_length, periodic=True, dtype="float32", name=None) -> Tensor:
    """``0.5 - 0.5 cos(2 pi n / N)``; ``N = L`` for a periodic window of even length ``L``, else ``L - 1``.

    >>> hann_window(5).numpy()
    array([0. , 0.5, 1. , 0.5, 0. ], dtype=float32)
    """
    return _raised_cosine(window_length, periodic, dtype, 0.5, 0.5, "hann_window")


def hamming_window(window_length, periodic=True, dtype="float32", name=None) -> Tensor:
    """``0.54 - 0.46 cos(2 pi n / N)`` (``N`` as for ``hann_window``).

    >>> hamming_window(4).numpy()
    array([0.08, 0.54, 1.  , 0.54], dtype=float32)
    """
    return _raised_cosine(window_length, periodic, dtype, 0.54, 0.46, "hamming_window")


def kaiser_window(window_length, beta=12.0, dtype="float32", name=None) -> Tensor:
    """The (symmetric) Kaiser window ``I0(beta sqrt(1 - (2n/(L-1) - 1)^2)) / I0(beta)``.

    >>> kaiser_window(3).numpy()
    array([5.277344e-05, 1.000000e+00, 5.277344e-05], dtype=float32)
    """
    length = _length(window_length, "kaiser_window", "window_length")
    dtype = _dtype(dtype)
    if length == 1:
        return Tensor(np.ones(1, dtype=dtype))
    n = np.arange(length)
    ratio = 2.0 * n / (length - 1) - 1.0
    return Tensor((np.i0(beta * np.sqrt(np.clip(1 - ratio * ratio, 0, None))) / np.i0(beta)).astype(dtype))


def kaiser_bessel_derived_window(window_length, beta=12.0, dtype="float32", name=None) -> Tensor:
    """The Kaiser-Bessel-derived window (the square root of the normalized cumulative Kaiser window, mirrored).

    >>> kaiser_bessel_derived_window(4).numpy()
    array([0.00726415, 0.9999736 , 0.9999736 , 0.00726415], dtype=float32)
    """
    length = _length(window_length, "kaiser_bessel_derived_window", "window_length")
    half = length // 2
    kaiser = kaiser_window(half + 1, beta, "float64").value
    cumulative = np.cumsum(kaiser)
    half_window = np.sqrt(cumulative[:-1] / cumulative[-1])
    return Tensor(np.concatenate([half_window, half_window[::-1]]).astype(_dtype(dtype)))


def vorbis_window(window_length, dtype="float32", name=None) -> Tensor:
    """The Vorbis power-complementary window ``sin(pi/2 sin^2(pi (n + 1/2) / L))``.

    >>> vorbis_window(4).numpy()
    array([0.22801432, 0.9736578 , 0.9736578 , 0.22801432], dtype=float32)
    """
    length = _length(window_length, "vorbis_window", "window_length")
    n = np.arange(length)
    return Tensor(np.sin(np.pi / 2 * np.sin(np.pi * (n + 0.5) / length) ** 2).astype(_dtype(dtype)))


def frame(signal, frame_length, frame_step, pad_end=False, pad_value=0, axis=-1, name=None) -> Tensor:
    """Overlapping frames of ``signal`` along ``axis``: that axis becomes ``(num_frames, frame_length)``.

    ``num_frames = 1 + (N - frame_length) // frame_step`` (0 if ``N < frame_length``), or with ``pad_end``
    ``ceil(N / frame_step)``, the end padded with ``pad_value``.

    >>> frame([0, 1, 2, 3, 4, 5], 3, 2).numpy()
    array([[0, 1, 2],
           [2, 3, 4]], dtype=int32)
    """
    from featherflow.ops.indexing import gather
    from featherflow.ops.pad import pad

    x = as_tensor(signal, "frame", "signal")
    length = _length(frame_length, "frame", "frame_length")
    step = _length(frame_step, "frame", "frame_step")
    if step < 1:
        raise ValueError(f"frame: frame_step must be positive. Received: frame_step={step}")
    if x.value.ndim == 0:
        raise ValueError("frame: expected a signal of rank >= 1. Received: a scalar.")
    axis = int(axis) % x.value.ndim
    n = x.value.shape[axis]
    if pad_end:
        frames = -(-n // step)
        needed = max(0, (frames - 1) * step + length - n)
        if needed:
            pads = [[0, 0] for _ in x.value.shape]
            pads[axis] = [0, needed]
            x = pad(x, pads, constant_values=pad_value)
    else:
        frames = max(0, 1 + (n - length) // step) if n >= length else 0
    index = np.arange(frames)[:, None] * step + np.arange(length)[None, :]
    return gather(x, index.reshape(frames, length), axis=axis)


def overlap_and_add(signal, frame_step, name=None) -> Tensor:
    """Sum frames ``(..., frames, frame_length)`` placed ``frame_step`` apart: ``(..., (frames - 1) * step + length)``.

    >>> overlap_and_add([[1.0, 1.0], [1.0, 1.0]], 1).numpy()
    array([1., 2., 1.], dtype=float32)
    """
    from featherflow.ops.indexing import index_add

    x = as_tensor(signal, "overlap_and_add", "signal")
    step = _length(frame_step, "overlap_and_add", "frame_step")
    if x.value.ndim < 2:
        raise ValueError(f"overlap_and_add: expected (..., frames, frame_length). Received: shape={x.value.shape}")
    frames, length = x.value.shape[-2:]
    total = (frames - 1) * step + length if frames else 0
    index = np.arange(frames)[:, None] * step + np.arange(length)[None, :]
    flat_shape = x.value.shape[:-2] + (frames * length,)
    from featherflow.ops.shape import reshape

    return index_add(reshape(x, flat_shape), (Ellipsis, index.reshape(-1)), x.value.shape[:-2] + (total,))


def _default_fft_length(frame_length):
    return 1 << max(0, (int(frame_length) - 1).bit_length())


def stft(signals, frame_length, frame_step, fft_length=None, window_fn=hann_window, pad_end=False,
         name=None) -> Tensor:
    """The short-time Fourier transform: ``rfft(frame(signals) * window)`` over the last axis.

    Output ``(..., frames, fft_length // 2 + 1)`` complex; ``fft_length`` defaults to the smallest power of
    two >= ``frame_length``.

    >>> import featherflow as ff
    >>> stft(ff.ones(20), 8, 4).shape
    (4, 5)
    """
    x = as_tensor(signals, "stft", "signals")
    fft_length = _default_fft_length(frame_length) if fft_length is None else int(fft_length)
    framed = frame(x, frame_length, frame_step, pad_end=pad_end)
    if window_fn is not None:
        framed = framed * window_fn(int(frame_length), dtype=x.value.dtype)
    return rfft(framed, [fft_length])


def inverse_stft(stfts, frame_length, frame_step, fft_length=None, window_fn=hann_window, name=None) -> Tensor:
    """Invert ``stft``: ``irfft`` each frame, window it, overlap-add. With the window from
    ``inverse_stft_window_fn`` this reconstructs the signal exactly (where frames overlap enough).

    >>> import featherflow as ff
    >>> x = ff.random.normal((32,), seed=0)
    >>> s = stft(x, 8, 2)
    >>> y = inverse_stft(s, 8, 2, window_fn=inverse_stft_window_fn(2))
    >>> bool(ff.reduce_max(ff.abs(y[8:-8] - x[8:24])) < 1e-5)
    True
    """
    from featherflow.ops.indexing import getitem
    from featherflow.ops.pad import pad

    s = as_tensor(stfts, "inverse_stft", "stfts")
    frame_length = int(frame_length)
    fft_length = _default_fft_length(frame_length) if fft_length is None else int(fft_length)
    real_frames = irfft(s, [fft_length])
    if frame_length < fft_length:
        real_frames = getitem(real_frames, (Ellipsis, slice(0, frame_length)))
    elif frame_length > fft_length:
        pads = [[0, 0] for _ in real_frames.value.shape]
        pads[-1] = [0, frame_length - fft_length]
        real_frames = pad(real_frames, pads)
    if window_fn is not None:
        real_frames = real_frames * window_fn(frame_length, dtype=real_frames.value.dtype)
    return overlap_and_add(real_frames, frame_step)


def inverse_stft_window_fn(frame_step, forward_window_fn=hann_window, name=None):
    """The window function for ``inverse_stft`` that inverts ``stft`` done with ``forward_window_fn``:
    the forward window divided by the overlap-added squared windows.

    >>> inverse_stft_window_fn(2)(4, "float64").numpy()  # hann(4) / (hann(4)^2 overlap-added with hop 2)
    array([0., 1., 1., 1.])
    """
    step = int(frame_step)

    def window(frame_length, dtype="float32"):
        forward = forward_window_fn(frame_length, dtype=dtype).value.astype(np.float64)
        overlaps = -(-frame_length // step)
        squared = np.pad(forward ** 2, (0, overlaps * step - frame_length)).reshape(overlaps, step)
        denominator = np.tile(squared.sum(axis=0, keepdims=True), (overlaps, 1)).reshape(-1)[:frame_length]
        return Tensor((forward / denominator).astype(np.dtype(dtype)))

    return window


def _dct_matrix(n, kind, norm):
    """``M`` with ``dct(x) = M @ x`` for SciPy's DCT type ``kind`` (1-4) of length ``n``."""
    k = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    if kind == 1:
        if n < 2:
            raise ValueError("dct: the type-I DCT needs at least 2 points.")
        m = 2 * np.cos(np.pi * k * j / (n - 1))
        m[:, 0] /= 2
        m[:, -1] /= 2
        return m
    if kind == 2:
        m = 2 * np.cos(np.pi * k * (2 * j + 1) / (2 * n))
        if norm == "ortho":
            m *= np.sqrt(1 / (2 * n))
            m[0] /= np.sqrt(2)
        return m
    if kind == 3:
        m = 2 * np.cos(np.pi * (2 * k + 1) * j / (2 * n))
        m[:, 0] = 1.0
        if norm == "ortho":
            m *= np.sqrt(1 / (2 * n))
            m[:, 0] = 1 / np.sqrt(n)
        return m
    m = 2 * np.cos(np.pi * (2 * k + 1) * (2 * j + 1) / (4 * n))
    return m * np.sqrt(1 / (2 * n)) if norm == "ortho" else m


def dct(input, type=2, n=None, axis=-1, norm=None, name=None) -> Tensor:  # noqa: A002 - TensorFlow's names
    """The discrete cosine transform (types 1-4, SciPy's definitions) of the last axis.

    ``n`` crops or zero-pads the last axis first; ``norm="ortho"`` makes types 2-4 orthonormal.

    >>> dct([1.0, 2.0, 3.0, 4.0], type=1).numpy()
    array([15., -4.,  0., -1.], dtype=float32)
    """
    from featherflow.ops.indexing import getitem
    from featherflow.ops.linalg import matmul
    from featherflow.ops.pad import pad

    x = as_tensor(input, "dct", "input")
    if x.value.dtype.kind != "f":
        raise ValueError(f"dct: the input must be float32 or float64. Received dtype {x.value.dtype.name}.")
    if type not in (1, 2, 3, 4):
        raise ValueError(f"dct: only types 1, 2, 3 and 4 are supported. Received: type={type}")
    if norm not in (None, "ortho"):
        raise ValueError(f"dct: norm must be None or 'ortho'. Received: norm={norm!r}")
    if type == 1 and norm is not None:
        raise ValueError("Normalization is not supported for the Type-I DCT.")
    if axis not in (-1, x.value.ndim - 1):
        raise NotImplementedError(f"axis must be -1. Got: {axis}")
    if n is not None:
        n = int(n)
        size = x.value.shape[-1]
        if n < size:
            x = getitem(x, (Ellipsis, slice(0, n)))
        elif n > size:
            x = pad(x, [[0, 0]] * (x.value.ndim - 1) + [[0, n - size]])
    length = x.value.shape[-1]
    m = _dct_matrix(length, type, norm).astype(x.value.dtype)
    if x.value.ndim == 1:
        return matmul(x[None, :], Tensor(m.T.copy()))[0]
    return matmul(x, Tensor(m.T.copy()))


def idct(input, type=2, n=None, axis=-1, norm=None, name=None) -> Tensor:  # noqa: A002 - TensorFlow's names
    """The DCT of the inverse type (2 <-> 3; 1 and 4 are their own), unscaled as in TensorFlow: for type 2,
    ``idct(dct(x)) = 2 * N * x`` without ``norm``, ``x`` with ``norm="ortho"``.

    >>> idct(dct([1.0, 2.0], norm="ortho"), norm="ortho").numpy()
    array([1., 2.], dtype=float32)
    """
    if type not in (1, 2, 3, 4):
        raise ValueError(f"idct: only types 1, 2, 3 and 4 are supported. Received: type={type}")
    return dct(input, type={1: 1, 2: 3, 3: 2, 4: 4}[type], n=n, axis=axis, norm=norm)


def mdct(signals, frame_length, window_fn=vorbis_window, pad_end=False, norm=None, name=None) -> Tensor:
    """The modified DCT of frames of ``frame_length`` (a multiple of 4) with hop ``frame_length / 2``:
    ``(..., frames, frame_length / 2)``.

    >>> import featherflow as ff
    >>> mdct(ff.ones(16), 8).shape
    (3, 4)
    """
    from featherflow.ops.shape import concat, reverse, split

    frame_length = int(frame_length)
    if frame_length % 4:
        raise ValueError(f"mdct: frame_length must be a multiple of 4. Received: frame_length={frame_length}")
    framed = frame(signals, frame_length, frame_length // 2, pad_end=pad_end)
    if window_fn is not None:
        framed = framed * window_fn(frame_length, dtype=framed.value.dtype)
    a, b, c, d = split(framed, 4, axis=-1)
    rearranged = concat([-reverse(c, [-1]) - d, a - reverse(b, [-1])], axis=-1)
    return dct(rearranged, type=4, norm=norm)


def inverse_mdct(mdcts, window_fn=vorbis_window, norm=None, name=None) -> Tensor:
    """Invert ``mdct`` (time-domain aliasing cancels in the overlap-add).

    >>> import featherflow as ff
    >>> x = ff.random.normal((32,), seed=0)
    >>> y = inverse_mdct(mdct(x, 8, pad_end=True))
    >>> bool(ff.reduce_max(ff.abs(y[4:28] - x[4:28])) < 1e-5)
    True
    """
    from featherflow.ops.shape import concat, reverse, split

    m = as_tensor(mdcts, "inverse_mdct", "mdcts")
    half = m.value.shape[-1]
    if norm is None:
        result = dct(m, type=4) * (0.5 / half)
    elif norm == "ortho":
        result = dct(m, type=4, norm="ortho")
    else:
        raise ValueError(f"inverse_mdct: norm must be None or 'ortho'. Received: norm={norm!r}")
    x, y = split(result, 2, axis=-1)
    frames = concat([y, -reverse(y, [-1]), -reverse(x, [-1]), -x], axis=-1)
    if window_fn is not None:
        frames = frames * window_fn(2 * half, dtype=frames.value.dtype)
    return overlap_and_add(frames, half)


def _hertz_to_mel(f):
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


def linear_to_mel_weight_matrix(num_mel_bins=20, num_spectrogram_bins=129, sample_rate=8000, lower_edge_hertz=125.0,
                                upper_edge_hertz=3800.0, dtype="float32", name=None) -> Tensor:
    """The ``(num_spectrogram_bins, num_mel_bins)`` matrix of triangular mel filters (HTK mel scale
    ``1127 ln(1 + f / 700)``); the DC bin gets no weight. ``spectrogram @ matrix`` is the mel spectrogram.

    >>> linear_to_mel_weight_matrix(4, 9, 8000, 100.0, 3900.0).shape
    (9, 4)
    """
    num_mel_bins, num_spectrogram_bins = int(num_mel_bins), int(num_spectrogram_bins)
    sample_rate, lower, upper = float(sample_rate), float(lower_edge_hertz), float(upper_edge_hertz)
    if num_mel_bins <= 0 or num_spectrogram_bins <= 0 or sample_rate <= 0:
        raise ValueError(f"linear_to_mel_weight_matrix: num_mel_bins, num_spectrogram_bins and sample_rate must be "
                         f"positive. Received: {num_mel_bins}, {num_spectrogram_bins}, {sample_rate}")
    if lower < 0 or lower >= upper or upper > sample_rate / 2:
        raise ValueError(f"linear_to_mel_weight_matrix: need 0 <= lower_edge_hertz < upper_edge_hertz <= "
                         f"sample_rate / 2. Received: lower_edge_hertz={lower}, upper_edge_hertz={upper}, "
                         f"sample_rate={sample_rate}")
    frequencies = np.linspace(0.0, sample_rate / 2, num_spectrogram_bins)[1:]
    bins_mel = _hertz_to_mel(frequencies)[:, None]
    edges = np.linspace(_hertz_to_mel(lower), _hertz_to_mel(upper), num_mel_bins + 2)
    low, center, high = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    weights = np.maximum(0.0, np.minimum((bins_mel - low) / (center - low), (high - bins_mel) / (high - center)))
    return Tensor(np.pad(weights, [[1, 0], [0, 0]]).astype(np.dtype(dtype)))


def mfccs_from_log_mel_spectrograms(log_mel_spectrograms, name=None) -> Tensor:
    """Mel-frequency cepstral coefficients: the orthonormal-scaled type-II DCT of log-mel spectrograms over
    the last axis (``dct(x) / sqrt(2 * num_mel_bins)``).

    >>> import featherflow as ff
    >>> round(float(mfccs_from_log_mel_spectrograms(ff.ones((2, 4)))[0, 0]), 5)  # 2 * 4 / sqrt(8)
    2.82843
    """
    x = as_tensor(log_mel_spectrograms, "mfccs_from_log_mel_spectrograms", "log_mel_spectrograms")
    bins = x.value.shape[-1]
    if bins < 1:
        raise ValueError("mfccs_from_log_mel_spectrograms: the last axis (mel bins) must not be empty.")
    return dct(x, type=2) * (1.0 / math.sqrt(2.0 * bins))
