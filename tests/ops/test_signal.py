"""FFT family and signal processing: values against NumPy, round trips, float64 gradients through complex
intermediates (first and second order)."""

import numpy as np
import pytest
from gradcheck import check_gradient, check_second_order, random_array

import featherflow as ff

S = ff.signal


def _power(z):
    return ff.math.real(z * ff.math.conj(z))


def test_complex_transforms_match_numpy():
    z = random_array((3, 4, 8)) + 1j * random_array((3, 4, 8), seed=1)
    for op, ref in [(S.fft, np.fft.fft), (S.ifft, np.fft.ifft), (S.fft2d, np.fft.fft2), (S.ifft2d, np.fft.ifft2),
                    (S.fft3d, np.fft.fftn), (S.ifft3d, np.fft.ifftn)]:
        np.testing.assert_allclose(op(z).numpy(), ref(z) if op not in (S.fft3d, S.ifft3d) else ref(z, axes=(0, 1, 2)),
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(S.fftnd(z, fft_length=[6], axes=[1], norm="ortho").numpy(),
                               np.fft.fftn(z, s=[6], axes=[1], norm="ortho"), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="complex64 or complex128"):
        S.fft([1.0, 2.0])


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_gradients_through_complex_transforms(norm):
    x, y = random_array((2, 6), seed=2), random_array((2, 6), seed=3)
    f = lambda a, b: _power(S.fftnd(ff.complex(a, b), axes=[1], norm=norm))  # noqa: E731
    check_gradient(f, [x, y])
    g = lambda a, b: _power(S.ifftnd(ff.complex(a, b), fft_length=[4, 8], axes=[0, 1], norm=norm))  # noqa: E731
    check_gradient(g, [x, y])
    check_second_order(f, [x, y])


@pytest.mark.parametrize("length", [None, 5, 8, 9])
def test_real_transforms_round_trip_and_gradients(length):
    x = random_array((3, 7), seed=4)
    fft_length = None if length is None else [length]
    spectrum = S.rfft(x, fft_length)
    np.testing.assert_allclose(spectrum.numpy(), np.fft.rfft(x, n=length), rtol=1e-12, atol=1e-12)
    check_gradient(lambda a: _power(S.rfft(a, fft_length)) + ff.math.imag(S.rfft(a, fft_length)), [x])
    n = 7 if length is None else length
    back = S.irfft(ff.constant(np.fft.rfft(x, n=n)), [n])
    np.testing.assert_allclose(back.numpy(), np.fft.irfft(np.fft.rfft(x, n=n), n=n), rtol=1e-12, atol=1e-12)
    z = random_array((2, 5), seed=5)
    w = random_array((2, 5), seed=6)
    check_gradient(lambda a, b: S.irfft(ff.complex(a, b), fft_length), [z, w])
    check_second_order(lambda a: _power(S.rfft(a * a, fft_length)), [x])


def test_multidimensional_real_transforms():
    x = random_array((2, 3, 4), seed=7)
    np.testing.assert_allclose(S.rfft2d(x).numpy(), np.fft.rfft2(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(S.rfft3d(x).numpy(), np.fft.rfftn(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(S.irfft3d(S.rfft3d(x)).numpy(), x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(S.rfftnd(x, axes=[0, 2], norm="ortho").numpy(),
                               np.fft.rfftn(x, axes=[0, 2], norm="ortho"), rtol=1e-12, atol=1e-12)
    check_gradient(lambda a: _power(S.rfft3d(a)), [x])
    check_gradient(lambda a: S.irfft2d(S.rfft2d(a) * ff.complex(a[..., :3] * 0 + 2.0, a[..., :3] * 0)), [x])
    check_gradient(lambda a: S.irfftnd(S.rfftnd(a, axes=[0, 1], norm="forward"), axes=[0, 1], norm="forward"),
                   [x[..., 0]])
    np.testing.assert_array_equal(S.fftshift(np.arange(6)).numpy(), np.fft.fftshift(np.arange(6)))
    np.testing.assert_array_equal(S.ifftshift(S.fftshift(np.arange(7))).numpy(), np.arange(7))


def test_windows_frames_and_stft():
    n = np.arange(8)
    np.testing.assert_allclose(S.hann_window(8, dtype="float64").numpy(), 0.5 - 0.5 * np.cos(2 * np.pi * n / 8))
    np.testing.assert_allclose(S.hann_window(8, periodic=False, dtype="float64").numpy(), np.hanning(8), atol=1e-15)
    np.testing.assert_allclose(S.hamming_window(7, dtype="float64").numpy(), np.hamming(7), atol=1e-15)
    np.testing.assert_allclose(S.kaiser_window(6, 3.0, dtype="float64").numpy(), np.kaiser(6, 3.0), rtol=1e-12)
    kbd = S.kaiser_bessel_derived_window(8, dtype="float64").numpy()
    np.testing.assert_allclose(kbd[:4] ** 2 + kbd[4:] ** 2, 1.0, rtol=1e-12)  # Princen-Bradley condition
    framed = S.frame(np.arange(10), 4, 3).numpy()
    assert framed.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert S.frame(np.arange(10), 4, 3, pad_end=True).shape == (4, 4)
    np.testing.assert_array_equal(S.overlap_and_add(np.ones((3, 4)), 2).numpy(), [1, 1, 2, 2, 2, 2, 1, 1])
    x = random_array((40,), seed=8)
    spectrogram = S.stft(x, 16, 4)
    assert spectrogram.shape == (7, 9)
    back = S.inverse_stft(spectrogram, 16, 4, window_fn=S.inverse_stft_window_fn(4))
    np.testing.assert_allclose(back.numpy()[12:-12], x[12:28 + 0 * 12][: back.shape[0] - 24], rtol=1e-10)
    check_gradient(lambda a: ff.abs(S.stft(a, 8, 4)), [x[:24]])


def test_dct_family_and_mel():
    import scipy.fft

    x = random_array((3, 6), seed=9)
    for kind in (1, 2, 3, 4):
        np.testing.assert_allclose(S.dct(x, type=kind).numpy(), scipy.fft.dct(x, type=kind), rtol=1e-12)
        check_gradient(lambda a, k=kind: S.dct(a, type=k), [x])
    for kind in (2, 3, 4):
        np.testing.assert_allclose(S.dct(x, type=kind, norm="ortho").numpy(), scipy.fft.dct(x, type=kind, norm="ortho"),
                                   rtol=1e-12)
        np.testing.assert_allclose(S.idct(S.dct(x, type=kind, norm="ortho"), type=kind, norm="ortho").numpy(), x,
                                   rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="Type-I DCT"):
        S.dct(x, type=1, norm="ortho")
    signal = random_array((32,), seed=10)
    restored = S.inverse_mdct(S.mdct(signal, 8, pad_end=True))
    np.testing.assert_allclose(restored.numpy()[4:28], signal[4:28], rtol=1e-10, atol=1e-12)
    check_gradient(lambda a: S.mdct(a, 8), [signal[:16]])
    mel = S.linear_to_mel_weight_matrix(6, 33, 16000, 100.0, 7000.0, dtype="float64").numpy()
    assert mel.shape == (33, 6) and (mel[0] == 0).all() and mel.max() <= 1.0
    with pytest.raises(ValueError, match="lower_edge_hertz"):
        S.linear_to_mel_weight_matrix(6, 33, 16000, 7000.0, 100.0)
    logmel = random_array((2, 6), seed=11)
    np.testing.assert_allclose(S.mfccs_from_log_mel_spectrograms(logmel).numpy(),
                               scipy.fft.dct(logmel, type=2) / np.sqrt(12), rtol=1e-12)
