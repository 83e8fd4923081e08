"""Unicode string ops: unicode_split, unicode_decode (and their ``_with_offsets`` forms), unicode_encode,
unicode_transcode. Encodings: ``"UTF-8"``, ``"UTF-16-BE"``, ``"UTF-32-BE"``.

Invalid input follows ``errors``: ``"replace"`` (default) puts ``replacement_char`` (U+FFFD) for each
maximal invalid subsequence (the Unicode standard's recommended practice, as ICU and TensorFlow do),
``"ignore"`` drops it, ``"strict"`` raises ``ValueError``.

>>> import featherflow as tf
>>> tf.strings.unicode_split("héllo", "UTF-8").numpy()[1].decode()
'é'
>>> tf.strings.unicode_decode(["hé"], "UTF-8").to_list()
[[104, 233]]
"""

from __future__ import annotations

import numpy as np

from featherflow.core.ragged import RaggedTensor
from featherflow.core.tensor import Tensor
from featherflow.strings._common import ragged_from_lists, string_array

_CODECS = {"UTF8": "utf-8", "UTF16BE": "utf-16-be", "UTF32BE": "utf-32-be"}
_UNITS = {"utf-8": 1, "utf-16-be": 2, "utf-32-be": 4}


def _codec(encoding, op) -> str:
    key = str(encoding).upper().replace("-", "").replace("_", "")
    if key not in _CODECS:
        raise ValueError(f"tf.strings.{op}: unsupported encoding {encoding!r}; featherflow supports 'UTF-8', "
                         "'UTF-16-BE' and 'UTF-32-BE'.")
    return _CODECS[key]


def _check_errors(errors, op):
    if errors not in ("replace", "ignore", "strict"):
        raise ValueError(f"tf.strings.{op}: errors must be 'replace', 'ignore' or 'strict'. Received: {errors!r}")


def _utf8_sequence_end(s: bytes, i: int) -> tuple:
    """``(end, valid)``: the end of the code point starting at ``i`` or of its maximal invalid subpart."""
    b = s[i]
    if b < 0x80:
        return i + 1, True
    if 0xC2 <= b <= 0xDF:
        need, low, high = 1, 0x80, 0xBF
    elif 0xE0 <= b <= 0xEF:
        need = 2
        low, high = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F)}.get(b, (0x80, 0xBF))
    elif 0xF0 <= b <= 0xF4:
        need = 3
        low, high = {0xF0: (0x90, 0xBF), 0xF4: (0x80, 0x8F)}.get(b, (0x80, 0xBF))
    else:
        return i + 1, False
    j = i + 1
    for k in range(need):
        if j >= len(s) or not (low <= s[j] <= high if k == 0 else 0x80 <= s[j] <= 0xBF):
            return j, False
        j += 1
    return j, True


def _decode_chars(s: bytes, codec: str, errors: str, replacement: int, control: bool, op: str) -> tuple:
    """``(code points, byte offsets)`` of one string."""
    if codec == "utf-8":
        try:
            text = s.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            points = [ord(c) for c in text]
            offsets, position = [], 0
            for c in points:
                offsets.append(position)
                position += 1 if c < 0x80 else 2 if c < 0x800 else 3 if c < 0x10000 else 4
        else:
            points, offsets, i = [], [], 0
            while i < len(s):
                end, valid = _utf8_sequence_end(s, i)
                if valid:
                    points.append(ord(s[i:end].decode("utf-8")))
                    offsets.append(i)
                elif errors == "strict":
                    raise ValueError(f"tf.strings.{op}: Invalid formatting on input string {s!r} (invalid UTF-8 at "
                                     f"byte {i}).")
                elif errors == "replace":
                    points.append(replacement)
                    offsets.append(i)
                i = end
    else:
        unit = _UNITS[codec]
        try:
            text = s.decode(codec)
        except UnicodeDecodeError as e:
            if errors == "strict":
                raise ValueError(f"tf.strings.{op}: Invalid formatting on input string {s!r}: {e.reason}") from None
            text = s.decode(codec, "replace" if errors == "replace" else "ignore")
            text = text.replace("\ufffd", chr(replacement)) if errors == "replace" and replacement >= 0 else text
        points = [ord(c) for c in text]
        offsets, position = [], 0
        for c in points:
            offsets.append(position)
            position += unit * (2 if unit == 2 and c >= 0x10000 else 1)
    if control:
        points = [replacement if c < 0x20 else c for c in points]
    return points, offsets


def _decode_all(input, encoding, errors, replacement_char, replace_control_characters, op):
    codec = _codec(encoding, op)
    _check_errors(errors, op)
    data = string_array(input, op)
    decoded = [_decode_chars(s, codec, errors, int(replacement_char), bool(replace_control_characters), op)
               for s in data.reshape(-1)]
    return data, decoded


def unicode_decode(input, input_encoding, errors="replace", replacement_char=65533, replace_control_characters=False,
                   name=None):  # noqa: A002 - TensorFlow's name
    """The code points (int32) of each string: a RaggedTensor (1-D Tensor for a scalar string)."""
    data, decoded = _decode_all(input, input_encoding, errors, replacement_char, replace_control_characters,
                                "unicode_decode")
    return ragged_from_lists((p for p, _ in decoded), data.shape, dtype=np.int32)


def unicode_decode_with_offsets(input, input_encoding, errors="replace", replacement_char=65533,
                                replace_control_characters=False, name=None):  # noqa: A002
    """``(code points, start byte offsets)`` of each string's characters."""
    data, decoded = _decode_all(input, input_encoding, errors, replacement_char, replace_control_characters,
                                "unicode_decode_with_offsets")
    return (ragged_from_lists((p for p, _ in decoded), data.shape, dtype=np.int32),
            ragged_from_lists((o for _, o in decoded), data.shape, dtype=np.int64))


def _char_strings(points, codec):
    return [chr(c).encode(codec, "surrogatepass") for c in points]


def unicode_split(input, input_encoding, errors="replace", replacement_char=65533, name=None):  # noqa: A002
    """Split each string into its characters (each encoded in ``input_encoding``).

    >>> unicode_split(["ab"], "UTF-8").to_list()
    [[b'a', b'b']]
    """
    data, decoded = _decode_all(input, input_encoding, errors, replacement_char, False, "unicode_split")
    codec = _codec(input_encoding, "unicode_split")
    return ragged_from_lists((_char_strings(p, codec) for p, _ in decoded), data.shape)


def unicode_split_with_offsets(input, input_encoding, errors="replace", replacement_char=65533,
                               name=None):  # noqa: A002
    """``(characters, start byte offsets)`` of each string."""
    data, decoded = _decode_all(input, input_encoding, errors, replacement_char, False, "unicode_split_with_offsets")
    codec = _codec(input_encoding, "unicode_split_with_offsets")
    return (ragged_from_lists((_char_strings(p, codec) for p, _ in decoded), data.shape),
            ragged_from_lists((o for _, o in decoded), data.shape, dtype=np.int64))


def _encode_points(points, codec, errors, replacement, op) -> bytes:
    chars = []
    for c in points:
        c = int(c)
        if 0 <= c <= 0x10FFFF and not 0xD800 <= c <= 0xDFFF:
            chars.append(chr(c))
        elif errors == "strict":
            raise ValueError(f"tf.strings.{op}: invalid code point {c}.")
        elif errors == "replace":
            chars.append(chr(replacement))
    return "".join(chars).encode(codec)


def unicode_encode(input, output_encoding, errors="replace", replacement_char=65533, name=None):  # noqa: A002
    """Encode code points (the innermost axis of an int32 Tensor or RaggedTensor) as strings.

    >>> unicode_encode([104, 105], "UTF-8").numpy().decode()
    'hi'
    """
    codec = _codec(output_encoding, "unicode_encode")
    _check_errors(errors, "unicode_encode")
    replacement = int(replacement_char)
    if isinstance(input, RaggedTensor):
        if input.ragged_rank > 1:
            inner = unicode_encode(input.values, output_encoding, errors, replacement_char)
            return RaggedTensor.from_row_splits(inner.value if isinstance(inner, Tensor) else inner,
                                                input.row_splits)
        rows = input.to_list()
        out = np.empty(len(rows), dtype=object)
        out[:] = [_encode_points(r, codec, errors, replacement, "unicode_encode") for r in rows]
        return Tensor(out)
    points = np.asarray(input.value if isinstance(input, Tensor) else input)
    if points.dtype.kind not in "iu" or points.ndim == 0:
        raise TypeError("tf.strings.unicode_encode: `input` must be int32 code points of rank >= 1.")
    flat = points.reshape(-1, points.shape[-1])
    out = np.empty(len(flat), dtype=object)
    out[:] = [_encode_points(r, codec, errors, replacement, "unicode_encode") for r in flat]
    return Tensor(out.reshape(points.shape[:-1]))


def unicode_transcode(input, input_encoding, output_encoding, errors="replace", replacement_char=65533,
                      replace_control_characters=False, name=None):  # noqa: A002
    """Re-encode each string from ``input_encoding`` to ``output_encoding`` (invalid input per ``errors``).

    >>> unicode_transcode(["hi"], "UTF-8", "UTF-16-BE").numpy()
    array([b'\\x00h\\x00i'], dtype=object)
    """
    data, decoded = _decode_all(input, input_encoding, errors, replacement_char, replace_control_characters,
                                "unicode_transcode")
    codec = _codec(output_encoding, "unicode_transcode")
    out = np.empty(len(decoded), dtype=object)
    out[:] = [_encode_points(p, codec, errors, int(replacement_char), "unicode_transcode") for p, _ in decoded]
    return Tensor(out.reshape(data.shape))
