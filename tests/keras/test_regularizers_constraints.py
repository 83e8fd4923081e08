"""keras.regularizers and keras.constraints against NumPy formulas; gradients; serialization."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import check_gradient

import featherflow as ff
from featherflow import keras

R = keras.regularizers
C = keras.constraints
W = np.random.default_rng(0).normal(size=(4, 3))


def test_l1_l2_values():
    assert float(R.L1(0.3)(W)) == pytest.approx(0.3 * np.abs(W).sum())
    assert float(R.L2(0.2)(W)) == pytest.approx(0.2 * (W ** 2).sum())
    assert float(R.L1L2(0.3, 0.2)(W)) == pytest.approx(0.3 * np.abs(W).sum() + 0.2 * (W ** 2).sum())
    assert float(R.L1L2()(W)) == 0.0
    assert float(R.get("l2")(W)) == pytest.approx(0.01 * (W ** 2).sum())
    assert float(R.get("l1")(W)) == pytest.approx(0.01 * np.abs(W).sum())
    assert R.l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}
    assert R.L2(l=0.5).l2 == 0.5  # the old keyword


def _orthogonal_ref(w, factor, mode):
    x = w if mode == "rows" else w.T
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    g = x @ x.T
    n = g.shape[0]
    return factor * 0.5 * np.abs(g - np.diag(np.diag(g))).sum() / (n * (n - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer(mode):
    assert float(R.OrthogonalRegularizer(0.1, mode)(W)) == pytest.approx(_orthogonal_ref(W, 0.1, mode))
    check_gradient(lambda w: R.OrthogonalRegularizer(0.1, mode)(w), [W])
    with pytest.raises(ValueError, match="rank 2"):
        R.OrthogonalRegularizer()(np.ones(3))


@pytest.mark.parametrize("reg", [R.L1(0.3), R.L2(0.2), R.L1L2(0.1, 0.4)])
def test_regularizer_gradients(reg):
    check_gradient(lambda w: reg(w), [W + 0.01])  # away from |w| = 0


@pytest.mark.parametrize("reg", [R.L1(0.3), R.L2(0.2), R.L1L2(0.1, 0.4), R.OrthogonalRegularizer(0.2, "columns")])
def test_regularizer_serialization(reg):
    clone = R.deserialize(R.serialize(reg))
    assert type(clone) is type(reg) and clone.get_config() == reg.get_config()
    assert type(R.get(type(reg).__name__)) is type(reg)


def test_regularizer_errors():
    with pytest.raises(ValueError, match="not a valid regularization penalty"):
        R.L2(float("inf"))
    with pytest.raises(ValueError, match="not a valid regularization penalty"):
        R.L1("0.1")
    with pytest.raises(ValueError, match="Unknown regularizer: 'l3'"):
        R.get("l3")
    fn = lambda w: ff.reduce_sum(w)  # noqa: E731
    assert R.get(fn) is fn and R.get(None) is None


def _norms(w, axis):
    return np.sqrt((w ** 2).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [0, 1, [0, 1]])
def test_constraints(axis):
    ax = tuple(axis) if isinstance(axis, list) else axis
    w = W * 2.0
    n = _norms(w, ax)
    eps = 1e-7
    np.testing.assert_allclose(C.MaxNorm(1.5, axis=axis)(w).numpy(), w * np.clip(n, 0, 1.5) / (eps + n))
    np.testing.assert_allclose(C.MinMaxNorm(0.5, 1.5, rate=0.7, axis=axis)(w).numpy(),
                               w * (0.7 * np.clip(n, 0.5, 1.5) + 0.3 * n) / (eps + n))
    np.testing.assert_allclose(C.UnitNorm(axis=axis)(w).numpy(), w / (eps + n))
    np.testing.assert_allclose(C.NonNeg()(w).numpy(), np.where(w >= 0, w, 0))


def test_constraint_keeps_dtype_and_names():
    out = C.MaxNorm(1.0)(W.astype("float32"))
    assert out.dtype == np.float32
    for name, cls in (("max_norm", C.MaxNorm), ("maxnorm", C.MaxNorm), ("non_neg", C.NonNeg),
                      ("unit_norm", C.UnitNorm), ("min_max_norm", C.MinMaxNorm), ("MaxNorm", C.MaxNorm)):
        assert type(C.get(name)) is cls
    for c in (C.MaxNorm(3, axis=1), C.MinMaxNorm(0.1, 2.0, 0.5, axis=[0, 1]), C.NonNeg(), C.UnitNorm(axis=1)):
        clone = C.deserialize(C.serialize(c))
        assert type(clone) is type(c) and clone.get_config() == c.get_config()
    with pytest.raises(ValueError, match="Unknown constraint"):
        C.get("positive")


def test_constraint_in_a_layer_after_an_update():
    layer = keras.layers.Dense(3, kernel_constraint="non_neg", kernel_regularizer="l2")
    layer.build((None, 4))
    opt = keras.optimizers.SGD(1.0)
    opt.apply_gradients([(np.ones((4, 3), "float32"), layer.kernel)])
    assert (layer.kernel.numpy() >= 0).all()
    assert float(layer.losses[0]) == pytest.approx(0.01 * (layer.kernel.numpy().astype("float64") ** 2).sum(),
                                                   rel=1e-5)


def test_radial_constraint_matches_tf_keras():
    # tf_keras 2.21's RadialConstraint on arange kernels (values read along the diagonal below the centre)
    even = keras.constraints.RadialConstraint()(np.arange(4 * 4 * 2 * 3, dtype="float32").reshape(4, 4, 2, 3))
    assert even.numpy()[:, :, 0, 0].tolist() == [[90.0] * 4, [90.0, 30.0, 30.0, 90.0], [90.0, 30.0, 30.0, 90.0],
                                                  [90.0] * 4]
    odd = keras.constraints.radial_constraint()(np.arange(5 * 5 * 2 * 3, dtype="float32").reshape(5, 5, 2, 3))
    assert odd.numpy()[:, :, 1, 2].tolist() == [[113.0] * 5, [113.0, 77.0, 77.0, 77.0, 113.0],
                                                [113.0, 77.0, 41.0, 77.0, 113.0], [113.0, 77.0, 77.0, 77.0, 113.0],
                                                [113.0] * 5]
    assert keras.constraints.get("radial_constraint").__class__ is keras.constraints.RadialConstraint
    with pytest.raises(ValueError, match="rank 4"):
        keras.constraints.RadialConstraint()(np.ones((3, 3)))
