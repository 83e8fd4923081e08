"""``tf.audio``: 16-bit PCM WAV files to and from float32 waveforms, in memory (``tf.audio.decode_wav`` /
``encode_wav``). Samples are scaled by 32768: ``[-1, 1)`` in float32, clipped to the int16 range on encoding.

>>> import featherflow as ff
>>> data = ff.audio.encode_wav([[0.0, 0.5], [-1.0, 0.25]], 8000)
>>> audio, rate = ff.audio.decode_wav(data)
>>> audio.numpy(), int(rate)
(array([[ 0.  ,  0.5 ],
       [-1.  ,  0.25]], dtype=float32), 8000)
"""

from __future__ import annotations

import io
import wave

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.string_tensor import to_string_array
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor


def _contents(contents) -> bytes:
    if isinstance(contents, (bytes, bytearray)):
        return bytes(contents)
    array = to_string_array(contents.value if isinstance(contents, Tensor) else contents)
    if array is None or array.ndim != 0:
        raise InvalidArgumentError(f"decode_wav: contents must be a scalar string (the file's bytes). Received: "
                                   f"{contents!r:.80}")
    return array.item()


def decode_wav(contents, desired_channels=-1, desired_samples=-1, name=None) -> tuple:
    """Decodes a 16-bit PCM WAV file into ``(audio, sample_rate)``: ``audio`` float32 ``[samples, channels]``,
    ``sample_rate`` an int32 scalar.

    Args:
        contents: the file's bytes (a scalar string tensor or ``bytes``).
        desired_channels: channels wanted (-1: the file's); extra ones repeat the file's last channel, fewer
            keep the first ones.
        desired_samples: samples wanted (-1: the file's); the audio is cut or padded with zeros.
    """
    data = _contents(contents)
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise InvalidArgumentError(f"decode_wav: the contents are not a WAV file ({exc}).") from exc
    if width != 2:
        raise InvalidArgumentError(f"Can only read 16-bit WAV files, but received {8 * width}")
    samples = np.frombuffer(frames[:len(frames) // (2 * channels) * 2 * channels], dtype="<i2")
    audio = samples.reshape(-1, channels).astype(np.float32) / np.float32(32768.0)
    if int(desired_channels) > 0:
        source = np.minimum(np.arange(int(desired_channels)), channels - 1)
        audio = audio[:, source]
    if int(desired_samples) >= 0:
        wanted = int(desired_samples)
        audio = audio[:wanted] if audio.shape[0] >= wanted else np.concatenate(
            [audio, np.zeros((wanted - audio.shape[0], audio.shape[1]), np.float32)])
    return Tensor(np.ascontiguousarray(audio)), Tensor(np.asarray(rate, dtype=np.int32))


def encode_wav(audio, sample_rate, name=None) -> Tensor:
    """Encodes float32 ``audio`` of shape ``[samples, channels]`` as a 16-bit PCM WAV file (a scalar string)."""
    values = as_tensor(audio, "encode_wav", "audio").value
    if values.ndim != 2:
        raise InvalidArgumentError(f"audio must be 2-dimensional{list(values.shape)}")
    pcm = np.clip(np.round(values.astype(np.float64) * 32768.0), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(values.shape[1])
        wav.setsampwidth(2)
        wav.setframerate(int(np.asarray(sample_rate.value if isinstance(sample_rate, Tensor) else sample_rate)))
        wav.writeframes(pcm.tobytes())
    return Tensor(np.asarray(buffer.getvalue(), dtype=object))
