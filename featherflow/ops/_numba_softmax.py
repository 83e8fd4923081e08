"""The Numba kernels behind ``featherflow.ops._kernels`` for a classifier's outputs: the row softmax and the count
of rows whose argmax is the label (imported only when Numba is installed: this module imports it);
``featherflow.ops._softmax_compiled`` calls them.

A classifier's output softmax works on small arrays (the seed MLP's 32 x 10 probabilities) where NumPy's
per-call cost is the whole cost: ``array_kernels.softmax`` is five calls (row maximum, subtract, exp, row sum,
divide). The compiled path is three: ``softmax_shift`` (``z - max(z)`` per row, a NaN row maximum as NumPy's),
NumPy's own ``exp`` in place, ``softmax_normalize`` (each row divided by its sum, summed as NumPy's pairwise
summation does for up to 128 terms: fewer than 8 left to right, else 8 interleaved partial sums; longer rows keep
the NumPy path). So the values are the NumPy path's bit for bit: no result depends on whether the kernels
are loaded. The accuracy count replaces five NumPy calls (argmax, equal, sum, two in-place adds) with exact
integer arithmetic: the same sums. ``cache=True`` compiles once per machine into ``__pycache__``.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def softmax_shift(z, out):  # pragma: no cover - compiled
    """``out[i] = z[i] - max(z[i])`` for each row ``i`` of the 2-D ``z`` (a NaN in a row makes its maximum NaN)."""
    rows, classes = z.shape
    for i in range(rows):
        row = z[i]
        top = row[0]
        for j in range(1, classes):
            if row[j] > top or row[j] != row[j]:  # NumPy's maximum: a NaN wins and stays
                top = row[j]
        target = out[i]
        for j in range(classes):
            target[j] = row[j] - top


MAX_PAIRWISE_BLOCK = 128  # NumPy's PW_BLOCKSIZE: longer rows are summed in halves (the kernels take up to this)


@njit(inline="always")
def _pairwise_sum(row, count):  # pragma: no cover - compiled
    """NumPy's ``pairwise_sum`` of ``row[:count]`` in the row's dtype, ``1 <= count <= 128`` (one block)."""
    if count < 8:  # (NumPy adds to a zero first: the same sum, as exp's terms are never -0.0)
        total = row[0]
        for k in range(1, count):
            total += row[k]
        return total
    r0, r1, r2, r3, r4, r5, r6, r7 = row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]
    k = 8
    stop = count - count % 8
    while k < stop:
        r0 += row[k]
        r1 += row[k + 1]
        r2 += row[k + 2]
        r3 += row[k + 3]
        r4 += row[k + 4]
        r5 += row[k + 5]
        r6 += row[k + 6]
        r7 += row[k + 7]
        k += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while k < count:
        total += row[k]
        k += 1
    return total


@njit(cache=True, nogil=True, error_model="numpy")
def softmax_normalize(e):  # pragma: no cover - compiled
    """``e[i] /= sum(e[i])`` in place for each row ``i`` of the 2-D ``e`` (at most ``MAX_PAIRWISE_BLOCK`` columns),
    the sum as NumPy's ``add.reduce``."""
    rows, classes = e.shape
    for i in range(rows):
        row = e[i]
        total = _pairwise_sum(row, classes)
        for j in range(classes):
            row[j] /= total


@njit(cache=True, nogil=True, error_model="numpy")
def add_argmax_matches(labels, scores, total, count):  # pragma: no cover - compiled
    """``total += sum(labels == argmax(scores, axis=-1))`` and ``count += rows`` in place (0-d float64 arrays):
    sparse categorical accuracy's running sums. The argmax is NumPy's: the first maximum, or the first NaN."""
    rows, classes = scores.shape
    hits = 0
    for i in range(rows):
        row = scores[i]
        best = 0
        top = row[0]
        if top == top:
            for j in range(1, classes):
                value = row[j]
                if value != value:
                    best = j
                    break
                if value > top:
                    top = value
                    best = j
        if labels[i] == best:
            hits += 1
    total[()] += hits
    count[()] += rows
