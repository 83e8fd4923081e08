"""The sparse softmax cross-entropy through its compiled kernels (``ops/_numba_xent.py`` via
``ops/_xent_compiled.py``) against the NumPy path of ``array_kernels.sparse_xent_rows`` / ``sparse_xent_grad``
and an independent float64 reference, finite differences, non-finite logits, and a compiled ``tf.function``
(eager and compiled steps bit for bit)."""

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.ops import _kernels, _xent_compiled

pytestmark = pytest.mark.skipif(not _kernels.available(), reason="Numba is not installed: NumPy path only")


@pytest.fixture(autouse=True)
def _restore_kernel_mode():
    """Each test switches the kernels; the mode it found (``FEATHERFLOW_NUMBA=0``'s off included) comes back."""
    previous = _kernels._state["enabled"]
    yield
    _kernels._state["enabled"] = previous


def _loss_and_grad(logits, labels, use, weights=None):
    _kernels.use_kernels(use)
    try:
        z = ff.Variable(logits)
        with ff.GradientTape() as tape:
            loss = ff.nn.sparse_softmax_cross_entropy_with_logits(labels, z)
            total = ff.reduce_sum(loss * weights) if weights is not None else ff.reduce_mean(loss)
        return loss.numpy(), tape.gradient(total, z).numpy()
    finally:
        _kernels.use_kernels(None)


def _reference(logits, labels, weights):
    z = logits.astype(np.float64).reshape(-1, logits.shape[-1])
    idx = np.asarray(labels).reshape(-1)
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(idx)), idx]
    grad = np.exp(log_probs)
    grad[np.arange(len(idx)), idx] -= 1
    return loss.reshape(np.shape(labels)), (grad * weights.reshape(-1, 1)).reshape(logits.shape)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(32, 10), (5, 3), (1, 1), (2, 3, 4)])
def test_kernels_match_numpy_and_a_float64_reference(dtype, shape):
    rng = np.random.default_rng(len(shape) + shape[-1])
    logits = (rng.standard_normal(shape) * 4).astype(dtype)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    weights = rng.uniform(0.5, 2.0, size=shape[:-1]).astype(dtype)
    fast, fast_grad = _loss_and_grad(logits, labels, True, weights)
    plain, plain_grad = _loss_and_grad(logits, labels, False, weights)
    want, want_grad = _reference(logits, labels, weights.astype(np.float64))
    tol = 2e-6 if dtype == "float32" else 1e-13
    assert fast.dtype == plain.dtype == np.dtype(dtype) and fast.shape == plain.shape == shape[:-1]
    np.testing.assert_allclose(fast, plain, rtol=tol, atol=tol)
    np.testing.assert_allclose(fast, want, rtol=tol * 4, atol=tol * 4)
    np.testing.assert_allclose(fast_grad, plain_grad, rtol=tol, atol=tol)
    np.testing.assert_allclose(fast_grad, want_grad, rtol=tol * 4, atol=tol * 4)


def test_the_kernels_run_when_switched_on(monkeypatch):
    calls = []
    kernels = dict(_kernels._compiled())
    for name in ("sparse_xent_rows", "sparse_xent_grad"):
        kernel = kernels[name]
        kernels[name] = lambda *a, kernel=kernel, name=name: (calls.append(name), kernel(*a))
    monkeypatch.setitem(_kernels._state, "kernels", kernels)
    _loss_and_grad(np.zeros((4, 3), "float32"), np.array([0, 1, 2, 0]), True)
    assert calls == ["sparse_xent_rows", "sparse_xent_grad"]
    calls.clear()
    _loss_and_grad(np.zeros((4, 3), "float32"), np.array([0, 1, 2, 0]), False)
    assert calls == []


def test_gradient_by_finite_differences():
    labels = np.array([2, 0, 1])
    _kernels.use_kernels(True)
    try:
        check_gradient(lambda z: ff.nn.sparse_softmax_cross_entropy_with_logits(labels, z), [random_array((3, 4))])
    finally:
        _kernels.use_kernels(None)


def test_non_finite_logits_give_the_numpy_paths_values():
    logits = np.array([[0.0, np.inf, 1.0], [np.nan, 0.0, 1.0], [-np.inf] * 3, [1e30, -1e30, 0.0],
                       [0.0, 0.0, np.nan]], "float32")
    labels = np.array([0, 1, 2, 0, 1])
    with np.errstate(all="ignore"):
        fast, _ = _loss_and_grad(logits, labels, True)
        plain, _ = _loss_and_grad(logits, labels, False)
    np.testing.assert_array_equal(fast, plain)  # inf, nan, nan, 0, nan: NaN where NumPy gives NaN


def test_labels_out_of_range_still_raise():
    with pytest.raises(ValueError, match="outside the valid range"):
        _loss_and_grad(np.zeros((2, 3), "float32"), np.array([0, 3]), True)


def test_compiled_steps_give_the_eager_values_bit_for_bit():
    rng = np.random.default_rng(4)
    batches = [((rng.standard_normal((8, 5)) * 3).astype("float32"), rng.integers(0, 5, 8)) for _ in range(3)]
    _kernels.use_kernels(True)
    try:
        def step(logits, labels):
            z = ff.convert_to_tensor(logits)
            with ff.GradientTape() as tape:
                tape.watch(z)
                loss = ff.reduce_mean(ff.nn.sparse_softmax_cross_entropy_with_logits(labels, z))
            return loss, tape.gradient(loss, z)

        compiled = ff.function(step)
        for logits, labels in batches:
            eager_loss, eager_grad = step(ff.constant(logits), ff.constant(labels))
            loss, grad = compiled(ff.constant(logits), ff.constant(labels))
            np.testing.assert_array_equal(loss.numpy(), eager_loss.numpy())
            np.testing.assert_array_equal(grad.numpy(), eager_grad.numpy())
        code = compiled.get_concrete_function(ff.constant(batches[0][0]), ff.constant(batches[0][1])) \
            .pretty_printed_code()
        assert "host__rows" in code and "host__grad" in code
        assert compiled.experimental_get_tracing_count() == 1
    finally:
        _kernels.use_kernels(None)


def test_default_mode_follows_the_ops_kernel_rule():
    """Unloaded kernels are not loaded for small logits (the import is not worth it); switched off, never."""
    small = np.zeros((4, 3), "float32")
    if _kernels._state["kernels"] is None:
        assert _xent_compiled.compiled_rows(small) is None
    _kernels.use_kernels(False)
    try:
        assert _xent_compiled.compiled_rows(small) is None
    finally:
        _kernels.use_kernels(None)
    assert _xent_compiled.compiled_rows(np.zeros((4,), "float32")) is None  # not rows of logits
    assert _xent_compiled.compiled_rows(small.astype("float16")) is None
