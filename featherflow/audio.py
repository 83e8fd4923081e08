"""``featherflow.audio``: TensorFlow's ``tf.audio`` namespace (re-exports only)."""

from featherflow.ops.audio import decode_wav, encode_wav

__all__ = ["decode_wav", "encode_wav"]
