"""The Numba LSTM step kernels behind ``featherflow.ops._kernels`` (imported only when Numba is
installed: this module imports it). float32 only: the callers keep the NumPy path for every other dtype.

LSTM steps. One kernel call replaces the ten ufunc calls of a forward step (activations, cell, output) and
the five of a backward step plus the factor pre-pass over the whole sequence. NumPy's float32 ``exp`` is
vectorized but ``tanh`` is not (about 4 ns an element here), and without Intel's SVML Numba would call the
scalar libm functions; so ``_exp`` and ``_tanh`` below are branch-free float32 polynomials that LLVM
vectorizes (Cephes' ``expf`` / ``tanhf`` constants: range reduction by ``ln 2`` and a degree-6 polynomial,
``2**n`` built from the exponent bits; ``tanh`` by its odd polynomial below 0.625 and
``1 - 2 / (exp(2|x|) + 1)`` above). Both are within 2 ulp of the float64 functions on the range that matters
(``_exp`` on [-87, 88]; it saturates at exp(88) above, where a sigmoid is 0 to float32 precision anyway).
The forward kernel lets LLVM fuse multiply-adds (``fastmath={"contract"}``: one rounding instead of two,
about 20% faster; no reassociation); the backward kernel repeats the NumPy path's float32 operations in the
same order (no ``fastmath`` at all), so given the same forward values its gradients are bit-identical.

``error_model="numpy"`` drops Python's zero-division checks so the loops vectorize; ``cache=True`` compiles
once per machine into ``__pycache__``.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic


@intrinsic
def _bits_as_float32(typingctx, bits):  # pragma: no cover - compiled
    """Reinterpret an int32's bits as a float32 (a free bitcast that LLVM can vectorize)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


_F = np.float32
_ONE, _TWO, _HALF = _F(1.0), _F(2.0), _F(0.5)
_EXP_LO, _EXP_HI = _F(-87.33654), _F(88.0)  # exp(-87.34) is the smallest normal float32
_LOG2E = _F(1.44269504088896341)
_LN2_HI, _LN2_LO = _F(0.693359375), _F(-2.12194440e-4)  # ln 2 = hi + lo, hi exact in few bits
_E0, _E1, _E2, _E3, _E4, _E5 = (_F(1.9875691500e-4), _F(1.3981999507e-3), _F(8.3334519073e-3), _F(4.1665795894e-2),
                                _F(1.6666665459e-1), _F(5.0000001201e-1))
_T0, _T1, _T2, _T3, _T4 = (_F(-5.70498872745e-3), _F(2.06390887954e-2), _F(-5.37397155531e-2), _F(1.33314422036e-1),
                           _F(-3.33332819422e-1))
_TANH_SMALL = _F(0.625)
_I127, _I23 = np.int32(127), np.int32(23)


@njit(inline="always", error_model="numpy")
def _exp(x):  # pragma: no cover - compiled
    """float32 ``exp(x)``: ``x = n ln 2 + r`` with ``|r| <= ln 2 / 2``, ``exp(r)`` by a polynomial, ``2**n`` by bits."""
    x = min(max(x, _EXP_LO), _EXP_HI)
    n = np.floor(x * _LOG2E + _HALF)
    r = x - n * _LN2_HI - n * _LN2_LO
    p = (((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5) * (r * r) + r + _ONE
    return p * _bits_as_float32((np.int32(n) + _I127) << _I23)


@njit(inline="always", error_model="numpy")
def _tanh(x):  # pragma: no cover - compiled
    """float32 ``tanh(x)``: an odd polynomial for ``|x| < 0.625`` (no cancellation near 0), else by ``exp``."""
    a = abs(x)
    large = _ONE - _TWO / (_exp(_TWO * a) + _ONE)
    large = large if x >= 0 else -large
    z = x * x
    small = ((((_T0 * z + _T1) * z + _T2) * z + _T3) * z + _T4) * z * x + x
    return small if a < _TANH_SMALL else large


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})  # FMAs: forward only (see above)
def lstm_forward_step(z, recurrent, bias, c_prev, c, tc, h):  # pragma: no cover - compiled
    """One LSTM step's elementwise work (``ops.recurrent.lstm``'s layout, ``(rows, batch)`` arrays).

    ``z`` ``(4u, batch)``: the step's input projection, rows ``[i, f, o, c]`` with the three sigmoid rows
    negated; ``bias`` ``(4u, batch)`` (the bias repeated per column, or empty) and ``recurrent`` ``(4u, batch)``
    (or empty) are added first, as
    ``(z + bias) + recurrent``. Then, in place, ``z`` becomes the activated gates ``sigmoid`` / ``tanh``, and
    ``c = f * c_prev + i * g``, ``tc = tanh(c)``, ``h = o * tc`` (each ``(u, batch)``) are written.
    All but ``h`` (which may be a strided view) are C-contiguous.

    The loops run over flat 1-D views (no 2-D index arithmetic in them): that is what lets LLVM vectorize.
    """
    u, batch = c.shape
    n = u * batch
    zf = z.reshape(4 * n)
    # bias: a (4u, batch) block (a per-row scalar in a 32-long inner loop does not vectorize)
    if bias.shape[0] > 0 and recurrent.shape[0] > 0:
        bf, rf = bias.reshape(4 * n), recurrent.reshape(4 * n)
        for k in range(4 * n):
            zf[k] = (zf[k] + bf[k]) + rf[k]
    elif bias.shape[0] > 0 or recurrent.shape[0] > 0:
        af = (bias if bias.shape[0] > 0 else recurrent).reshape(4 * n)
        for k in range(4 * n):
            zf[k] += af[k]
    for k in range(3 * n):
        zf[k] = _ONE / (_ONE + _exp(zf[k]))
    cp, cf, tf = c_prev.reshape(n), c.reshape(n), tc.reshape(n)
    for k in range(n):
        g = _tanh(zf[3 * n + k])
        zf[3 * n + k] = g
        cell = zf[n + k] * cp[k] + zf[k] * g
        cf[k] = cell
        tf[k] = _tanh(cell)
    for r in range(u):
        hr = h[r]
        for j in range(batch):
            hr[j] = zf[2 * n + r * batch + j] * tf[r * batch + j]


@njit(cache=True, nogil=True, error_model="numpy")
def lstm_backward_step(gates, c_prev, tc, dh, dc, dz, dz_t):  # pragma: no cover - compiled
    """One BPTT step of ``ops.recurrent.lstm`` (tanh / sigmoid), the NumPy path's operations in its order.

    ``gates`` ``(4u, batch)``: the activated rows ``[i, f, o, g]`` of the step; ``c_prev`` the cell entering
    it, ``tc`` ``tanh`` of the cell leaving it, ``dh`` the gradient of its ``h`` (output gradient included).
    Writes the pre-activation gradients in Keras's rows ``[i, f, c, o]`` into ``dz`` ``(4u, batch)`` and,
    transposed, into ``dz_t`` ``(batch, 4u)`` (the step's rows of the ``(steps * batch, 4u)`` matrix of the
    weight gradients), and turns ``dc`` (gradient of the cell leaving the step) into the gradient of
    ``c_prev``. All C-contiguous::

        dz_o = o (1 - o) tc dh;   dc += o (1 - tc^2) dh
        dz_i = i (1 - i) g dc;    dz_f = f (1 - f) c_prev dc;   dz_c = i (1 - g^2) dc;   dc *= f

    Why the transposed copy here: a ``(4u, steps, batch)`` matrix would take each step's block as 4u
    rows in 4u different pages (measured 25 us a step for 200 steps of (32, 64), mostly TLB misses on the
    VM); the step's own ``(batch, 4u)`` block is 32 KB in cache (9 us with the copy).
    """
    u, batch = dc.shape
    n = u * batch
    gf, cp, tf, dhf, dcf, dzf = (gates.reshape(4 * n), c_prev.reshape(n), tc.reshape(n), dh.reshape(n),
                                 dc.reshape(n), dz.reshape(4 * n))
    for k in range(n):
        i, f, o, g = gf[k], gf[n + k], gf[2 * n + k], gf[3 * n + k]
        t = tf[k]
        d = dhf[k]
        dcell = dcf[k] + (_ONE - t * t) * o * d
        dzf[3 * n + k] = (_ONE - o) * o * t * d
        dzf[k] = (_ONE - i) * i * g * dcell
        dzf[n + k] = (_ONE - f) * f * cp[k] * dcell
        dzf[2 * n + k] = (_ONE - g * g) * i * dcell
        dcf[k] = dcell * f
    for j in range(batch):  # contiguous writes, strided reads of the cache-resident dz
        row = dz_t[j]
        for r in range(4 * u):
            row[r] = dz[r, j]


# -- batch-major steps (``ops._lstm_rows``: the unmasked compiled path) ----------------------------------------
# Each row's work is a few simple loops over contiguous gate blocks (sliced views), one operation each: one loop
# doing all of a step's work over 4-5 arrays at offsets of a runtime ``u`` does not vectorize (measured, (128,
# 128) blocks: forward 342 us as one loop, 78 us as below; backward 49 us vs 20 us).
@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})  # FMAs: forward only (see above)
def lstm_forward_rows(z, c_prev, c, tc, h):  # pragma: no cover - compiled
    """``lstm_forward_step`` in the batch-major layout: one row per sample.

    ``z`` ``(batch, 4u)``: the step's pre-activations, columns ``[i, f, o, c]`` with the three sigmoid blocks
    negated. In place, ``z`` becomes the activated gates, and ``c = f * c_prev + i * g``, ``tc = tanh(c)``,
    ``h = o * tc`` (each ``(batch, u)``) are written. Each row of every array must be contiguous (``h`` may be a
    row-strided view: the ``h`` columns of the stacked ``[x, 1, h]``).
    """
    batch, u4 = z.shape
    u = u4 // 4
    for j in range(batch):
        zr = z[j]
        for k in range(3 * u):
            zr[k] = _ONE / (_ONE + _exp(zr[k]))
        zi, zf, zo, zg = zr[:u], zr[u:2 * u], zr[2 * u:3 * u], zr[3 * u:]
        for k in range(u):
            zg[k] = _tanh(zg[k])
        cp, cr, tr, hr = c_prev[j], c[j], tc[j], h[j]
        for k in range(u):
            cr[k] = zf[k] * cp[k] + zi[k] * zg[k]
        for k in range(u):
            tr[k] = _tanh(cr[k])
        for k in range(u):
            hr[k] = zo[k] * tr[k]


@njit(cache=True, nogil=True, error_model="numpy")
def lstm_backward_rows(gates, c_prev, tc, dh, dc, dz):  # pragma: no cover - compiled
    """``lstm_backward_step`` in the batch-major layout: one row per sample, the same operations in the same
    order (no ``fastmath``), so given the same values its results are bit-identical to it and to the NumPy path.

    ``gates`` ``(batch, 4u)``: the activated columns ``[i, f, o, g]`` of the step; ``c_prev`` ``(batch, u)`` the
    cell entering it, ``tc`` ``tanh`` of the cell leaving it, ``dh`` the gradient of its ``h``. Writes the
    pre-activation gradients in Keras's columns ``[i, f, c, o]`` into ``dz`` ``(batch, 4u)`` - the step's rows of
    the ``(steps * batch, 4u)`` matrix of the weight gradients, so no transposed copy - and turns ``dc`` into the
    gradient of ``c_prev``.
    """
    batch, u4 = gates.shape
    u = u4 // 4
    for j in range(batch):
        gr, dzr = gates[j], dz[j]
        gi, gf, go, gg = gr[:u], gr[u:2 * u], gr[2 * u:3 * u], gr[3 * u:]
        dzi, dzf, dzc, dzo = dzr[:u], dzr[u:2 * u], dzr[2 * u:3 * u], dzr[3 * u:]
        tr, dhr, dcr, cp = tc[j], dh[j], dc[j], c_prev[j]
        for k in range(u):  # dz_o = o (1 - o) tc dh;  dc += o (1 - tc^2) dh
            t, o, d = tr[k], go[k], dhr[k]
            dzo[k] = (_ONE - o) * o * t * d
            dcr[k] = dcr[k] + (_ONE - t * t) * o * d
        for k in range(u):
            i = gi[k]
            dzi[k] = (_ONE - i) * i * gg[k] * dcr[k]
        for k in range(u):
            f = gf[k]
            dzf[k] = (_ONE - f) * f * cp[k] * dcr[k]
        for k in range(u):
            g = gg[k]
            dzc[k] = (_ONE - g * g) * gi[k] * dcr[k]
        for k in range(u):
            dcr[k] = dcr[k] * gf[k]
