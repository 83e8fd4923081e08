"""Direct float64 loop implementations of convolution and pooling, the references for the conv tests."""

import numpy as np


def _same_pads(size, k_eff, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + k_eff - size, 0)
    return total // 2, total - total // 2


def reference_conv2d(x, w, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    eh, ew = (kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1
    if padding == "SAME":
        (pt, pb), (pl, pr) = _same_pads(h, eh, strides[0]), _same_pads(wd, ew, strides[1])
    elif padding == "VALID":
        pt = pb = pl = pr = 0
    else:
        (pt, pb), (pl, pr) = padding
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    ho = (h + pt + pb - eh) // strides[0] + 1
    wo = (wd + pl + pr - ew) // strides[1] + 1
    out = np.zeros((n, ho, wo, o))
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for b in range(kw):
                    patch = xp[:, i * strides[0] + a * dilations[0], j * strides[1] + b * dilations[1], :]
                    out[:, i, j, :] += patch @ w[a, b]
    return out


def reference_conv2d_transpose(x, w, out_hw, strides, padding, dilations=(1, 1)):
    """Scatter definition: out[i*s + k*d - pad] += x[i] * w[k] (w is (kh, kw, out, in))."""
    n, h, wd, c = x.shape
    kh, kw, o, _ = w.shape
    ho, wo = out_hw
    eh, ew = (kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1
    pt = _same_pads(ho, eh, strides[0])[0] if padding == "SAME" else 0
    pl = _same_pads(wo, ew, strides[1])[0] if padding == "SAME" else 0
    out = np.zeros((n, ho, wo, o))
    for i in range(h):
        for j in range(wd):
            for a in range(kh):
                for b in range(kw):
                    r, q = i * strides[0] + a * dilations[0] - pt, j * strides[1] + b * dilations[1] - pl
                    if 0 <= r < ho and 0 <= q < wo:
                        out[:, r, q, :] += x[:, i, j, :] @ w[a, b].T
    return out


def reference_pool2d(x, kind, k, s, padding):
    n, h, w, c = x.shape
    if padding == "SAME":
        ho, wo = -(-h // s[0]), -(-w // s[1])
        pt = max((ho - 1) * s[0] + k[0] - h, 0) // 2
        pl = max((wo - 1) * s[1] + k[1] - w, 0) // 2
    else:
        ho, wo = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
        pt = pl = 0
    out = np.zeros((n, ho, wo, c))
    for i in range(ho):
        for j in range(wo):
            r0, c0 = i * s[0] - pt, j * s[1] - pl
            win = x[:, max(r0, 0):min(r0 + k[0], h), max(c0, 0):min(c0 + k[1], w), :]
            out[:, i, j, :] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out
