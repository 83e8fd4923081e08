"""``keras.utils.audio_dataset_from_directory``: a ``tf.data.Dataset`` of ``.wav`` files as float32 waveforms.

Each file is decoded as ``tf.audio.decode_wav`` does: 16-bit PCM samples scaled to ``[-1, 1)``
(``sample / 32768``), shape ``(samples, channels)``; ``output_sequence_length`` truncates or zero-pads every
clip to that length, otherwise each batch is zero-padded to its longest clip.

>>> import os, tempfile, wave
>>> import numpy as np
>>> root = tempfile.mkdtemp()
>>> for label, length in (("no", 3), ("yes", 5)):
...     os.makedirs(os.path.join(root, label))
...     with wave.open(os.path.join(root, label, "a.wav"), "wb") as w:
...         w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
...         w.writeframes(np.full(length, 16384, "<i2").tobytes())
>>> ds = audio_dataset_from_directory(root, batch_size=2, shuffle=False)
Found 2 files belonging to 2 classes.
>>> audio, labels = next(ds.as_numpy_iterator())
>>> audio.shape, audio[0, :, 0].tolist(), labels.tolist(), ds.class_names
((2, 5, 1), [0.5, 0.5, 0.5, 0.0, 0.0], [0, 1], ['no', 'yes'])
"""

from __future__ import annotations

import wave

import numpy as np

from featherflow.data import AUTOTUNE, Dataset
from featherflow.keras.utils import dataset_utils


def decode_wav(path, desired_samples=-1, expected_rate=None) -> np.ndarray:
    """``(samples, channels)`` float32 of a 16-bit PCM WAV file (truncated or zero-padded to ``desired_samples``)."""
    with wave.open(path if isinstance(path, str) else path.decode(), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"Only 16-bit PCM WAV files can be decoded (as tf.audio.decode_wav). Received a file "
                             f"with {8 * wav.getsampwidth()}-bit samples: {path!r}")
        if expected_rate is not None and wav.getframerate() != expected_rate:
            raise ValueError(f"featherflow cannot resample audio: {path!r} has {wav.getframerate()} samples per second, "
                             f"not sampling_rate={expected_rate}. Resample the files beforehand or pass "
                             "sampling_rate=None.")
        channels = wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, channels)
    audio = samples.astype(np.float32) / 32768.0
    if desired_samples is not None and desired_samples >= 0:
        if len(audio) >= desired_samples:
            audio = audio[:desired_samples]
        else:
            audio = np.concatenate([audio, np.zeros((desired_samples - len(audio), channels), np.float32)])
    return audio


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                 sampling_rate=None, output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None, follow_links=False):
    """Generates a ``tf.data.Dataset`` from ``.wav`` files in a directory (tf.keras 2's function).

    Args:
        directory: with ``labels="inferred"``, one subdirectory of ``.wav`` files per class.
        labels, label_mode, class_names, batch_size, shuffle, seed, validation_split, subset, follow_links: as for
            ``image_dataset_from_directory``.
        sampling_rate: the files' expected rate; featherflow does not resample, so a file at another rate is an
            error (``None``: keep each file's rate).
        output_sequence_length: truncate or zero-pad every clip to this many samples (``None``: pad per batch).
        ragged: not available (featherflow has no ragged tensors): an error when true.

    Returns:
        A dataset of ``(audio, labels)`` (audio alone without labels) with ``class_names``; ``[train, validation]``
        for ``subset="both"``.
    """
    if ragged:
        raise ValueError("featherflow has no ragged tensors: use output_sequence_length, or the default per-batch "
                         "padding. Received: ragged=True")
    if sampling_rate is not None and (isinstance(sampling_rate, bool) or not isinstance(sampling_rate, int)
                                      or sampling_rate <= 0):
        raise ValueError(f"`sampling_rate` should be a positive integer. Received: sampling_rate={sampling_rate}")
    length = -1 if output_sequence_length is None else int(output_sequence_length)

    def make_dataset(paths):
        return Dataset.from_tensor_slices(paths).map(
            lambda path: decode_wav(path.numpy().item(), length, sampling_rate), num_parallel_calls=AUTOTUNE)

    return dataset_utils.from_directory(directory, labels, label_mode, class_names, batch_size, shuffle, seed,
                                        validation_split, subset, follow_links, (".wav",), "audio", make_dataset,
                                        prefetch_first=True, verbose=True, padded=output_sequence_length is None)
