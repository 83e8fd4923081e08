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
