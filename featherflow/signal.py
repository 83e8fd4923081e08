"""``featherflow.signal``: TensorFlow's ``tf.signal`` namespace (re-exports only)."""

from featherflow._lazy import lazy_attributes as _lazy_attributes

# less common names load on first use (featherflow/_lazy.py)
_LAZY = {
    "featherflow.ops.fft": ("fft", "fft2d", "fft3d", "fftnd", "fftshift", "ifft", "ifft2d", "ifft3d", "ifftnd",
                            "ifftshift", "irfft", "irfft2d", "irfft3d", "irfftnd", "rfft", "rfft2d", "rfft3d",
                            "rfftnd"),
    "featherflow.ops.signal": ("dct", "frame", "hamming_window", "hann_window", "idct", "inverse_mdct",
                               "inverse_stft", "inverse_stft_window_fn", "kaiser_bessel_derived_window",
                               "kaiser_window", "linear_to_mel_weight_matrix", "mdct",
                               "mfccs_from_log_mel_spectrograms", "overlap_and_add", "stft", "vorbis_window"),
}
__getattr__, __dir__ = _lazy_attributes(__name__, globals(), _LAZY)
