"""The Numba kernels behind ``featherflow.ops._kernels`` for layer normalization over the last axis (imported only
when Numba is installed: this module imports it).

``LayerNormalization`` over the last axis normalizes short rows (the text classifier's: 6,400 rows of 32 per
step, twice). NumPy does it in eleven passes forward (mean, center, square, mean, epsilon, sqrt, reciprocal,
scale, gamma, beta) and about fifteen backward, each a separate call on 204,800 numbers: 2-3 ms a step for the
forward and backward of one layer. These kernels do a row at a time: forward, the mean, the variance, ``xhat``
and ``gamma * xhat + beta``; backward, the two row sums of the closed form and the input gradient, with the
gradients of ``gamma`` and ``beta`` accumulated over the rows in float64. ``fastmath`` lets the row loops
vectorize (sums reassociated: the values agree with the NumPy path's to the dtype's rounding, not bit for bit).
``cache=True`` compiles once per machine into ``__pycache__``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)
def layer_norm_rows(x, gamma, beta, epsilon, out, xhat, inv):  # pragma: no cover - compiled
    """Per row of the 2-D ``x``: ``xhat = (x - mean) / sqrt(var + epsilon)``, ``out = xhat * gamma + beta``,
    ``inv = 1 / sqrt(var + epsilon)`` (``gamma``/``beta`` 1-D over the columns; ``out``, ``xhat`` like ``x``,
    ``inv`` one per row)."""
    rows, n = x.shape
    for r in range(rows):
        row = x[r]
        total = row[0] * 0
        for j in range(n):
            total += row[j]
        mean = total / n
        square = row[0] * 0
        for j in range(n):
            c = row[j] - mean
            square += c * c
        scale = 1 / np.sqrt(square / n + epsilon)
        inv[r] = scale
        h_row = xhat[r]
        o_row = out[r]
        for j in range(n):
            h = (row[j] - mean) * scale
            h_row[j] = h
            o_row[j] = h * gamma[j] + beta[j]


@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)
def layer_norm_grad_rows(g, xhat, inv, gamma, gx, g_gamma, g_beta):  # pragma: no cover - compiled
    """The closed-form backward per row, ``gx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))`` with
    ``dxhat = g * gamma``, and ``g_gamma = sum(g * xhat)``, ``g_beta = sum(g)`` over the rows (float64 1-D
    accumulators, zeroed here)."""
    rows, n = g.shape
    g_gamma[:] = 0.0
    g_beta[:] = 0.0
    for r in range(rows):
        g_row = g[r]
        h_row = xhat[r]
        sum_d = g_row[0] * 0
        sum_dh = g_row[0] * 0
        for j in range(n):
            d = g_row[j] * gamma[j]
            sum_d += d
            sum_dh += d * h_row[j]
            g_gamma[j] += g_row[j] * h_row[j]
            g_beta[j] += g_row[j]
        mean_d = sum_d / n
        mean_dh = sum_dh / n
        scale = inv[r]
        out = gx[r]
        for j in range(n):
            out[j] = (g_row[j] * gamma[j] - mean_d - h_row[j] * mean_dh) * scale


@njit(cache=True, nogil=True, error_model="numpy")
def batch_norm_channels(x, gamma, beta, epsilon, out, mean, var, inv):  # pragma: no cover - compiled
    """Batch normalization of the 2-D ``x`` ``(rows, channels)`` over its rows: per channel ``mean``, the biased
    ``var`` (both from float64 sums, the variance of the centred values: two passes) and ``inv = 1 / sqrt(var +
    epsilon)``; ``out = (x - mean) * inv * gamma + beta``. No ``fastmath``: the loops run along the channels (no
    reduction inside them) and vectorize as written; the sums run over the rows in order."""
    rows, channels = x.shape
    acc = np.zeros(channels, np.float64)
    for r in range(rows):
        for k in range(channels):
            acc[k] += x[r, k]
    for k in range(channels):
        mean[k] = acc[k] / rows
        acc[k] = 0.0
    for r in range(rows):
        for k in range(channels):
            d = np.float64(x[r, k] - mean[k])
            acc[k] += d * d
    for k in range(channels):
        var[k] = acc[k] / rows
        inv[k] = 1 / np.sqrt(var[k] + epsilon)
    for r in range(rows):
        for k in range(channels):
            out[r, k] = (x[r, k] - mean[k]) * inv[k] * gamma[k] + beta[k]


@njit(cache=True, nogil=True, error_model="numpy")
def batch_norm_grad_channels(g, x, mean, inv, gamma, gx, g_gamma, g_beta):  # pragma: no cover - compiled
    """The closed-form backward of ``batch_norm_channels``: with ``xhat = (x - mean) * inv`` (recomputed, the
    forward's expression), ``g_beta = sum(g)`` and ``g_gamma = sum(g * xhat)`` over the rows (float64 sums) and
    ``gx = inv * gamma * (g - g_beta / n - xhat * g_gamma / n)`` (``n`` the rows)."""
    rows, channels = x.shape
    sum_g = np.zeros(channels, np.float64)
    sum_gh = np.zeros(channels, np.float64)
    for r in range(rows):
        for k in range(channels):
            h = (x[r, k] - mean[k]) * inv[k]
            sum_g[k] += g[r, k]
            sum_gh[k] += np.float64(g[r, k] * h)
    scale = np.empty(channels, x.dtype)
    shift = np.empty(channels, x.dtype)
    slope = np.empty(channels, x.dtype)
    for k in range(channels):
        g_beta[k] = sum_g[k]
        g_gamma[k] = sum_gh[k]
        scale[k] = inv[k] * gamma[k]
        shift[k] = sum_g[k] / rows
        slope[k] = sum_gh[k] / rows
    for r in range(rows):
        for k in range(channels):
            h = (x[r, k] - mean[k]) * inv[k]
            gx[r, k] = scale[k] * (g[r, k] - shift[k] - h * slope[k])
