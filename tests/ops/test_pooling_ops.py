"""pooling ops against direct float64 loops, plus finite-difference gradients."""

import numpy as np
import pytest
from conv_reference import reference_pool2d
from gradcheck import check_gradient, random_array

import featherflow as ff

CASES = [((2, 6, 6, 3), (2, 2), (2, 2), "VALID"), ((2, 7, 5, 2), (2, 2), (2, 2), "VALID"),
         ((1, 7, 7, 2), (3, 3), (2, 2), "VALID"), ((1, 7, 6, 2), (3, 3), (2, 2), "SAME"),
         ((2, 5, 5, 1), (2, 2), (2, 2), "SAME"), ((1, 5, 6, 2), (2, 3), (1, 1), "SAME"),
         ((1, 6, 6, 1), (3, 2), (3, 2), "VALID")]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("xs,k,s,padding", CASES)
def test_pool2d(kind, xs, k, s, padding):
    x = random_array(xs, seed=1)
    fn = ff.nn.max_pool2d if kind == "max" else ff.nn.avg_pool2d
    np.testing.assert_allclose(fn(x, list(k), list(s), padding).numpy(), reference_pool2d(x, kind, k, s, padding),
                               rtol=1e-12)
    check_gradient(lambda x: fn(x, list(k), list(s), padding), [x])


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("k,s,padding", [(2, 2, "VALID"), (3, 1, "SAME"), (2, 1, "VALID"), (3, 2, "SAME")])
def test_pool1d(kind, k, s, padding):
    x = random_array((2, 7, 3), seed=2)
    fn = ff.nn.max_pool1d if kind == "max" else ff.nn.avg_pool1d
    ref = reference_pool2d(x[:, None], kind, (1, k), (1, s), padding)[:, 0]
    np.testing.assert_allclose(fn(x, k, s, padding).numpy(), ref, rtol=1e-12)
    check_gradient(lambda x: fn(x, k, s, padding), [x])
    generic = ff.nn.max_pool if kind == "max" else ff.nn.avg_pool
    np.testing.assert_allclose(generic(x, k, s, padding).numpy(), ref, rtol=1e-12)


@pytest.mark.parametrize("k,s", [((2, 2), (2, 2)), ((3, 3), (1, 1))])
def test_max_pool_ties_send_gradient_to_one_entry(k, s):
    x = ff.constant(np.zeros((1, 4, 4, 2)))
    with ff.GradientTape() as tape:
        tape.watch(x)
        y = ff.reduce_sum(ff.nn.max_pool2d(x, list(k), list(s), "VALID"))
    g = tape.gradient(y, x).numpy()
    n_windows = np.prod(ff.nn.max_pool2d(x, list(k), list(s), "VALID").shape)
    assert g.sum() == n_windows  # one unit of gradient per window, not one per tied entry
    assert g[0, 0, 0, 0] >= 1  # the first entry of the first window takes it


def test_pool_nchw_and_errors():
    x = random_array((1, 2, 6, 4), seed=3)
    out = ff.nn.max_pool2d(x, 2, 2, "VALID", data_format="NCHW").numpy()
    ref = reference_pool2d(x.transpose(0, 2, 3, 1), "max", (2, 2), (2, 2), "VALID").transpose(0, 3, 1, 2)
    np.testing.assert_allclose(out, ref)
    with pytest.raises(ValueError, match="4-D"):
        ff.nn.max_pool2d(np.zeros((2, 3, 3)), 2, 2, "VALID")
    with pytest.raises(ValueError, match="5-D"):
        ff.nn.max_pool(np.zeros((1, 2, 2, 2, 1)), 2, 2, "VALID")
    with pytest.raises(TypeError, match="floating"):
        ff.nn.max_pool2d(np.zeros((1, 2, 2, 1), "int32"), 2, 2, "VALID")


def _first_max_gradient(x, g, kh, kw):
    """Independent loop reference: each window's gradient goes to its first maximum in row-major
    order (NaN windows get ``g * 0``); uncovered rows/columns get 0."""
    out = np.zeros_like(x)
    n, h, w, c = x.shape
    for b in range(n):
        for i in range(h // kh):
            for j in range(w // kw):
                for ch in range(c):
                    window = x[b, i * kh:(i + 1) * kh, j * kw:(j + 1) * kw, ch]
                    top = window.max()
                    out[b, i * kh:(i + 1) * kh, j * kw:(j + 1) * kw, ch] = g[b, i, j, ch] * 0
                    hits = np.flatnonzero(window.ravel() == top)
                    if hits.size:
                        a, d = divmod(hits[0], kw)
                        out[b, i * kh + a, j * kw + d, ch] = g[b, i, j, ch]
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xs,k", [((7, 26, 26, 5), (2, 2)), ((5, 11, 11, 4), (2, 2)), ((3, 9, 8, 2), (3, 2)),
                                  ((4, 6, 7, 3), (1, 3)), ((2, 5, 6, 2), (2, 1))])
def test_tiled_max_pool_ties_and_chunks_match_first_max_loop(dtype, xs, k):
    """The tiled max pool (batch chunks, tie resolution on byte masks) against a loop reference on
    data full of ties (small integers after a ReLU, as the small CNN sees), with a NaN window."""
    rng = np.random.default_rng(3)
    x = np.maximum(rng.integers(-2, 3, xs), 0).astype(dtype)
    x[0, 0, 0, 0] = np.nan
    xt = ff.constant(x)
    with ff.GradientTape() as tape:
        tape.watch(xt)
        y = ff.nn.max_pool2d(xt, list(k), list(k), "VALID")
    g = rng.standard_normal(y.shape).astype(dtype)
    gx = tape.gradient(y, xt, output_gradients=g).numpy()
    ho, wo = xs[1] // k[0], xs[2] // k[1]
    crop = x[:, :ho * k[0], :wo * k[1]].reshape(xs[0], ho, k[0], wo, k[1], xs[3])
    np.testing.assert_array_equal(y.numpy(), np.max(crop, axis=(2, 4)))  # NaN propagates, as np.max
    np.testing.assert_array_equal(gx, _first_max_gradient(x, g, *k))


def test_tiled_max_pool_empty_batch_and_strided_input():
    x = ff.constant(np.zeros((0, 4, 4, 2), "float32"))
    with ff.GradientTape() as tape:
        tape.watch(x)
        y = ff.nn.max_pool2d(x, 2, 2, "VALID")
    assert y.shape == (0, 2, 2, 2) and tape.gradient(y, x).shape == (0, 4, 4, 2)
    base = random_array((2, 6, 8, 6), seed=4)[:, :, ::2, ::2]  # non-contiguous view
    check_gradient(lambda x: ff.nn.max_pool2d(x, 2, 2, "VALID"), [base])
    np.testing.assert_allclose(ff.nn.max_pool2d(base, 2, 2, "VALID").numpy(),
                               reference_pool2d(base, "max", (2, 2), (2, 2), "VALID"), rtol=1e-12)
