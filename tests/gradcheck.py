"""Finite-difference gradient checker shared by every op and layer test.

``check_gradient(fn, inputs)`` compares the tape's gradient of ``sum(fn(*inputs) * w)``
(``w`` a fixed random weighting, so every output element matters) with central
differences in float64 along several random directions per input:

    d/de f(x + e*v) ~ (f(x + h*v) - f(x - h*v)) / 2h  ==  <grad f(x), v>
"""

from __future__ import annotations

import numpy as np

import featherflow as ff


def random_array(shape, dtype="float64", seed=0, low=-1.0, high=1.0):
    """A reproducible random array in ``[low, high)``."""
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(dtype)


def _scalar_objective(fn, arrays, weights_cache):
    out = fn(*[ff.constant(a) for a in arrays])
    outs = out if isinstance(out, (list, tuple)) else [out]
    total = 0.0
    for i, o in enumerate(outs):
        value = np.asarray(o.numpy(), dtype="float64")
        if i not in weights_cache:
            weights_cache[i] = np.random.default_rng(100 + i).uniform(0.5, 1.5, size=value.shape)
        total += float((value * weights_cache[i]).sum())
    return total


def check_gradient(fn, inputs, wrt=None, directions=3, eps=1e-6, rtol=1e-5, atol=1e-7, seed=0):
    """Assert that the tape's gradients of ``fn`` match central finite differences.

    Args:
        fn: callable taking tensors, returning a tensor or a list of tensors.
        inputs: list of float64 NumPy arrays (the point to check at).
        wrt: indices of the inputs to differentiate (default: all float inputs).
        directions: random directions per input.
    """
    arrays = [np.asarray(a) for a in inputs]
    if wrt is None:
        wrt = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    for i in wrt:
        if arrays[i].dtype != np.float64:
            raise TypeError(f"check_gradient needs float64 inputs; input {i} is {arrays[i].dtype}")
    weights: dict = {}
    tensors = [ff.constant(a) for a in arrays]
    with ff.GradientTape(persistent=True) as tape:
        for i in wrt:
            tape.watch(tensors[i])
        out = fn(*tensors)
        outs = out if isinstance(out, (list, tuple)) else [out]
        total = None
        for k, o in enumerate(outs):
            if k not in weights:
                weights[k] = np.random.default_rng(100 + k).uniform(0.5, 1.5, size=o.shape)
            term = ff.reduce_sum(o * ff.constant(weights[k]))
            total = term if total is None else total + term
    grads = tape.gradient(total, [tensors[i] for i in wrt])
    rng = np.random.default_rng(seed)
    for i, grad in zip(wrt, grads):
        analytic = np.zeros_like(arrays[i]) if grad is None else grad.numpy()
        assert analytic.shape == arrays[i].shape, (
            f"gradient of input {i} has shape {analytic.shape}, expected {arrays[i].shape}")
        if arrays[i].size == 0:
            continue
        for _ in range(directions):
            v = rng.standard_normal(arrays[i].shape)
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[i] = arrays[i] + eps * v
            minus[i] = arrays[i] - eps * v
            numeric = (_scalar_objective(fn, plus, weights) - _scalar_objective(fn, minus, weights)) / (2 * eps)
            predicted = float((analytic * v).sum())
            tolerance = atol + rtol * max(1.0, abs(numeric), abs(predicted))
            assert abs(numeric - predicted) <= tolerance, (
                f"gradient mismatch for input {i}: finite differences {numeric:.8g}, tape {predicted:.8g}")


def first_gradient(fn, wrt):
    """``fn``'s gradient as a function: ``d sum(fn(*x) * w) / d x[i]`` for ``i`` in ``wrt``, computed by an inner
    tape (so that an outer tape differentiates it: second order)."""
    weights: dict = {}

    def gradient(*tensors):
        with ff.GradientTape() as inner:
            for i in wrt:
                inner.watch(tensors[i])
            out = fn(*tensors)
            outs = out if isinstance(out, (list, tuple)) else [out]
            total = None
            for k, o in enumerate(outs):
                if k not in weights:
                    weights[k] = np.random.default_rng(200 + k).uniform(0.5, 1.5, size=o.shape)
                term = ff.reduce_sum(o * ff.constant(weights[k].astype(o.dtype)))
                total = term if total is None else total + term
        grads = inner.gradient(total, [tensors[i] for i in wrt], unconnected_gradients="zero")
        return list(grads)

    return gradient


def check_second_order(fn, inputs, wrt=None, **kwargs):
    """Assert that differentiating ``fn``'s tape gradient (nested tapes) matches finite differences of that
    gradient, float64, along random directions."""
    arrays = [np.asarray(a) for a in inputs]
    if wrt is None:
        wrt = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    check_gradient(first_gradient(fn, wrt), arrays, wrt=wrt, **kwargs)


def check_variable_gradients(loss, variables, grads, eps=1e-6, rtol=1e-5, atol=1e-9, seed=7):
    """Assert that ``grads`` (one per variable, None skipped) match central differences of ``loss()`` (a
    zero-argument callable reading the float64 ``variables``) along one random direction per variable."""
    for variable, grad in zip(variables, grads):
        if grad is None:
            continue
        direction = np.random.default_rng(seed).standard_normal(variable.shape)
        base = variable.numpy()
        variable.assign(base + eps * direction)
        plus = float(loss())
        variable.assign(base - eps * direction)
        minus = float(loss())
        variable.assign(base)
        numeric, analytic = (plus - minus) / (2 * eps), float(np.sum(np.asarray(grad) * direction))
        if not abs(numeric - analytic) <= atol + rtol * abs(numeric):
            raise AssertionError(f"gradient mismatch for {variable.name}: finite differences {numeric:.8g}, "
                                 f"tape {analytic:.8g}")
