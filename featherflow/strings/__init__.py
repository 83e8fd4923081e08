"""``tf.strings``: string tensors (object arrays of UTF-8 ``bytes``) and their ops (re-exports only).

>>> import featherflow as tf
>>> tf.strings.split(tf.strings.lower(["The cat", "A DOG"])).to_list()
[[b'the', b'cat'], [b'a', b'dog']]
"""

from featherflow.strings.basic import join, length, lower, reduce_join, strip, substr, unsorted_segment_join, upper
from featherflow.strings.convert import as_string, format, to_number  # noqa: A004 - TensorFlow's name
from featherflow.strings.hashing import to_hash_bucket, to_hash_bucket_fast, to_hash_bucket_strong
from featherflow.strings.regex import regex_full_match, regex_replace
from featherflow.strings.split import bytes_split, ngrams, split
from featherflow.strings.unicode import (
    unicode_decode,
    unicode_decode_with_offsets,
    unicode_encode,
    unicode_split,
    unicode_split_with_offsets,
    unicode_transcode,
)

__all__ = ["as_string", "bytes_split", "format", "join", "length", "lower", "ngrams", "reduce_join",
           "regex_full_match", "regex_replace", "split", "strip", "substr", "to_hash_bucket", "to_hash_bucket_fast",
           "to_hash_bucket_strong", "to_number", "unicode_decode", "unicode_decode_with_offsets", "unicode_encode",
           "unicode_split", "unicode_split_with_offsets", "unicode_transcode", "unsorted_segment_join", "upper"]
