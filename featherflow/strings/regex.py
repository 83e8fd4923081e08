"""Regular-expression string ops: regex_replace and regex_full_match, with RE2's semantics.

TensorFlow matches with RE2 on UTF-8 text: ``.`` and character classes match whole code points, while
``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII-only. Python's ``re`` on decoded text with ``re.ASCII`` does
the same; invalid UTF-8 bytes travel through as surrogate escapes. In a rewrite, RE2 knows only ``\\0``-``\\9``
(groups) and ``\\\\``; everything else is literal, as here.

>>> import featherflow as tf
>>> tf.strings.regex_replace(["x<br />y"], "<br />", " ").numpy()
array([b'x y'], dtype=object)
>>> tf.strings.regex_replace(["ab"], r"(a)(b)", r"\\2\\1").numpy()
array([b'ba'], dtype=object)
"""

from __future__ import annotations

import functools
import re

import numpy as np

from featherflow.strings._common import as_text, elementwise


def _decode(s: bytes) -> str:
    return s.decode("utf-8", "surrogateescape")


def _encode(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


@functools.lru_cache(maxsize=256)
def _compile(pattern: str, op: str):
    if re.search(r"(?<!\\)\\[pP]", pattern):
        raise ValueError(f"tf.strings.{op}: Unicode property classes (\\p{{...}}) are not supported by featherflow's "
                         f"regular expressions. Received: pattern={pattern!r}")
    try:
        return re.compile(_end_anchors(pattern), re.ASCII)
    except re.error as e:
        raise ValueError(f"tf.strings.{op}: invalid pattern {pattern!r}: {e}") from None


def _end_anchors(pattern: str) -> str:
    """RE2's ``$`` (outside a class) is the end of the text; Python's also matches before a final newline."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]" or (out and out[-1] == "[")
        elif ch == "[":
            in_class = True
        elif ch == "$":
            ch = r"\Z"
        out.append(ch)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _rewrite_parts(rewrite: str) -> tuple:
    """RE2 rewrite -> (literal text | group number) parts."""
    parts, literal, i = [], [], 0
    while i < len(rewrite):
        ch = rewrite[i]
        if ch == "\\" and i + 1 < len(rewrite):
            nxt = rewrite[i + 1]
            if nxt.isdigit():
                parts.append("".join(literal))
                literal = []
                parts.append(int(nxt))
                i += 2
                continue
            if nxt == "\\":
                literal.append("\\")
                i += 2
                continue
            raise ValueError(f"tf.strings.regex_replace: invalid rewrite {rewrite!r}: RE2 rewrites allow only \\0-\\9 "
                             "and \\\\ after a backslash.")
        literal.append(ch)
        i += 1
    parts.append("".join(literal))
    return tuple(parts)


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):  # noqa: A002 - TensorFlow's name
    """Replace the matches of ``pattern`` in each string by ``rewrite`` (``\\1`` etc. name groups, ``\\0`` the
    whole match); only the first match unless ``replace_global``.

    Args:
        input: string tensor (or RaggedTensor of strings).
        pattern: RE2 regular expression.
        rewrite: replacement text.
        replace_global: replace every non-overlapping match (default) or the first only.
    """
    compiled = _compile(as_text(pattern), "regex_replace")
    parts = _rewrite_parts(as_text(rewrite))
    if any(isinstance(p, int) and p > compiled.groups for p in parts):
        raise ValueError(f"tf.strings.regex_replace: the rewrite {rewrite!r} names a group the pattern {pattern!r} "
                         f"does not have ({compiled.groups} groups).")

    def substitute(match):
        return "".join(p if isinstance(p, str) else (match.group(p) or "") for p in parts)

    count = 0 if replace_global else 1
    return elementwise(lambda s: _encode(compiled.sub(substitute, _decode(s), count=count)), input, "regex_replace")


def regex_full_match(input, pattern, name=None):  # noqa: A002
    """Whether each whole string matches ``pattern`` (bool).

    >>> regex_full_match(["abc", "abd"], "ab[c]").numpy()
    array([ True, False])
    """
    compiled = _compile(as_text(pattern), "regex_full_match")
    return elementwise(lambda s: compiled.fullmatch(_decode(s)) is not None, input, "regex_full_match", dtype=np.bool_)
