"""``keras.utils.pad_sequences``: ragged lists to one dense array.

>>> pad_sequences([[1], [2, 3], [4, 5, 6]])
array([[0, 0, 1],
       [0, 2, 3],
       [4, 5, 6]], dtype=int32)
>>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2, padding="post", truncating="post", value=-1)
array([[ 1, -1],
       [ 2,  3],
       [ 4,  5]], dtype=int32)
"""

from __future__ import annotations

import numpy as np


def pad_sequences(
    sequences,
    maxlen: int | None = None,
    dtype="int32",
    padding: str = "pre",
    truncating: str = "pre",
    value=0.0,
) -> np.ndarray:
    """Pads sequences to the same length (tf.keras's ``pad_sequences``).

    Args:
        sequences: list of sequences (each a list or array; elements may themselves be arrays
            of a common shape, e.g. feature vectors).
        maxlen: output length; default the longest sequence.
        dtype: output dtype (``object`` or a string dtype for strings).
        padding: ``"pre"`` pads before each sequence, ``"post"`` after.
        truncating: ``"pre"`` drops values from the start of longer sequences, ``"post"`` from the end.
        value: the padding value.

    Returns:
        Array of shape ``(len(sequences), maxlen) + sample_shape``.

    Raises:
        ValueError: bad ``padding``/``truncating``, a string ``value`` with a numeric dtype,
            non-iterable entries, or samples of differing shape.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"`sequences` must be iterable. Received: sequences={sequences!r}")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood. Expected "pre" or "post".')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood. Expected "pre" or "post".')
    lengths = []
    sample_shape = ()
    found_shape = False
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError as e:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {x!r}") from e
        if not found_shape and len(x):
            # The first non-empty sequence fixes the shape of one element.
            sample_shape = np.asarray(x).shape[1:]
            found_shape = True
    if maxlen is None:
        maxlen = max(lengths, default=0)
    maxlen = int(maxlen)
    if maxlen < 0:
        raise ValueError(f"`maxlen` must be non-negative. Received: maxlen={maxlen}")

    dtype = np.dtype(dtype)
    is_text_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype.kind != "O" and not is_text_dtype:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for index, sequence in enumerate(sequences):
        if not len(sequence):
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {index} is different from "
                f"expected shape {sample_shape}"
            )
        if padding == "post":
            out[index, : len(kept)] = kept
        else:
            out[index, -len(kept):] = kept
    return out
