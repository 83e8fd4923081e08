"""Golden tests: every optimizer against an independent float64 NumPy implementation of its
published update, 12 steps, with and without clipping and weight decay; the flat-buffer paths
against each other."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from optimizer_reference import Reference

import featherflow as ff
from featherflow import keras

SHAPES = [(3, 4), (5,), (2, 1, 3)]
STEPS = 12

CONFIGS = [
    ("sgd", "SGD", {}),
    ("sgd", "SGD", {"momentum": 0.9}),
    ("sgd", "SGD", {"momentum": 0.8, "nesterov": True}),
    ("rmsprop", "RMSprop", {}),
    ("rmsprop", "RMSprop", {"rho": 0.8, "momentum": 0.5, "centered": True}),
    ("adagrad", "Adagrad", {"initial_accumulator_value": 0.2}),
    ("adadelta", "Adadelta", {"rho": 0.9}),
    ("adam", "Adam", {}),
    ("adam", "Adam", {"beta_1": 0.8, "beta_2": 0.95, "amsgrad": True}),
    ("adamw", "AdamW", {}),
    ("adamax", "Adamax", {}),
    ("nadam", "Nadam", {}),
    ("ftrl", "Ftrl", {}),
    ("ftrl", "Ftrl", {"l1_regularization_strength": 0.01, "l2_regularization_strength": 0.02,
                      "l2_shrinkage_regularization_strength": 0.03, "beta": 0.1, "learning_rate_power": -0.6}),
    ("lion", "Lion", {}),
]
VARIANTS = {"plain": {}, "clipnorm": {"clipnorm": 0.5}, "clipvalue": {"clipvalue": 0.3},
            "global_clipnorm": {"global_clipnorm": 0.7}, "weight_decay": {"weight_decay": 0.05}}


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in SHAPES]
    targets = [rng.normal(size=s) for s in SHAPES]
    scales = [rng.uniform(0.5, 2.0, size=s) for s in SHAPES]
    noise = [[rng.normal(scale=0.3, size=s) for s in SHAPES] for _ in range(STEPS)]
    return params, targets, scales, noise


def _grads(params, targets, scales, noise_t):
    return [2 * c * (p - t) + n for p, t, c, n in zip(params, targets, scales, noise_t)]


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("ref_name,cls_name,hyper", CONFIGS, ids=[f"{c[1]}{i}" for i, c in enumerate(CONFIGS)])
def test_matches_reference(ref_name, cls_name, hyper, variant):
    lr = 0.05 if ref_name != "adadelta" else 1.0
    extra = dict(VARIANTS[variant])
    init, targets, scales, noise = _problem()
    variables = [ff.Variable(p.astype("float32")) for p in init]
    opt = getattr(keras.optimizers, cls_name)(learning_rate=lr, **hyper, **extra)
    wd = extra.pop("weight_decay", None)
    if cls_name == "AdamW" and wd is None:
        wd = 0.004
    # the reference starts from the float32-rounded initial values and the float32 learning rate
    ref = Reference(ref_name, float(np.float32(lr)), weight_decay=wd, clip_args=extra, **hyper)
    ref_params = [p.astype("float32").astype("float64") for p in init]
    for step in range(STEPS):
        grads = _grads(ref_params, targets, scales, noise[step])
        opt.apply_gradients(zip([ff.constant(g.astype("float32")) for g in grads], variables))
        ref.step(ref_params, [g.astype("float32").astype("float64") for g in grads])
        for v, r in zip(variables, ref_params):
            np.testing.assert_allclose(v.numpy(), r, rtol=3e-5, atol=3e-6,
                                       err_msg=f"{cls_name} {hyper} {variant}: step {step + 1}")
    assert int(opt.iterations) == STEPS


def _run(opt, mode, steps=STEPS):
    """Train the fixed problem with one of the three entry points; returns the final values."""
    init, targets, scales, noise = _problem(1)
    variables = [ff.Variable(p.astype("float32"), name=f"v{i}") for i, p in enumerate(init)]
    dummies = [ff.Variable(np.zeros(4, "float32"), name=f"dummy{i}") for i in range(2)]
    if mode == "subset":  # buffer order v0, d0, v1, d1, v2: each step updates three separate runs
        opt.build([variables[0], dummies[0], variables[1], dummies[1], variables[2]])
    views = opt.flat_gradient_views(variables) if mode == "flat" else None
    for step in range(steps):
        grads = _grads([v.numpy().astype("float64") for v in variables], targets, scales, noise[step])
        grads = [g.astype("float32") for g in grads]
        if mode == "flat":
            for view, g in zip(views, grads):
                np.copyto(view, g)
            opt.apply_flat()
        elif mode == "subset":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                opt.apply_gradients(list(zip(grads, variables)) + [(None, d) for d in dummies])
        else:
            opt.apply_gradients(zip(grads, variables))
    if mode == "subset":
        for d in dummies:
            np.testing.assert_array_equal(d.numpy(), 0.0)  # no gradient: not updated (not even decayed)
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("ref_name,cls_name,hyper", CONFIGS, ids=[f"{c[1]}{i}" for i, c in enumerate(CONFIGS)])
@pytest.mark.parametrize("extra", [{}, {"clipnorm": 0.5, "weight_decay": 0.01}], ids=["plain", "clip_wd"])
def test_flat_paths_agree(ref_name, cls_name, hyper, extra):
    """The whole-buffer update, per-variable runs (subset) and apply_flat give identical results."""
    results = {mode: _run(getattr(keras.optimizers, cls_name)(learning_rate=0.05, **hyper, **extra), mode)
               for mode in ("apply", "flat", "subset")}
    for mode in ("flat", "subset"):
        for a, b in zip(results["apply"], results[mode]):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, err_msg=mode)


@pytest.mark.parametrize("cls_name", sorted({c[1] for c in CONFIGS}))
def test_state_round_trip(cls_name):
    """get_state after 5 steps, restored into a fresh optimizer (before build): both continue identically."""
    init, targets, scales, noise = _problem(2)
    cls = getattr(keras.optimizers, cls_name)
    a_vars = [ff.Variable(p.astype("float32")) for p in init]
    opt_a = cls(learning_rate=0.05)
    for step in range(5):
        grads = _grads([v.numpy() for v in a_vars], targets, scales, noise[step])
        opt_a.apply_gradients(zip([g.astype("float32") for g in grads], a_vars))
    state = opt_a.get_state()
    assert all(isinstance(s, np.ndarray) for s in state) and int(state[0]) == 5
    b_vars = [ff.Variable(v.numpy()) for v in a_vars]
    opt_b = cls.from_config(opt_a.get_config())
    opt_b.set_state(state)
    for step in range(5, STEPS):
        for variables, opt in ((a_vars, opt_a), (b_vars, opt_b)):
            grads = _grads([v.numpy() for v in variables], targets, scales, noise[step])
            opt.apply_gradients(zip([g.astype("float32") for g in grads], variables))
    for a, b in zip(a_vars, b_vars):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for sa, sb in zip(opt_a.get_state(), opt_b.get_state()):
        np.testing.assert_array_equal(sa, sb)
