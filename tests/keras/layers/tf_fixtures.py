"""Replay the committed tf.keras reference cases (``fixtures/attention_tf.npz``, written once by
``fixtures/make_attention_fixtures.py`` with TensorFlow 2.21 / tf_keras 2.21 / Keras 3.15): set the stored
weights on a featherflow layer, run the stored inputs, and compare outputs and the gradients of the same
weighted sum of the outputs with respect to the inputs and every weight."""

from __future__ import annotations

import os

import numpy as np

import featherflow as ff

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "attention_tf.npz")
_cache: dict = {}


def case(name: str) -> dict:
    """``{"inputs", "masks", "weights", "outputs", "out_weights", "grad_inputs", "grad_weights", ...}``."""
    if "data" not in _cache:
        with np.load(FIXTURES, allow_pickle=False) as data:
            _cache["data"] = {k: data[k] for k in data.files}
    data = _cache["data"]

    def series(prefix, count):
        return [data[f"{name}/{prefix}{i}"] for i in range(int(data[f"{name}/{count}"]))]

    n_inputs = int(data[f"{name}/n_inputs"])
    return {
        "inputs": series("input", "n_inputs"),
        "grad_inputs": series("grad_input", "n_inputs"),
        "masks": [data.get(f"{name}/mask{i}") for i in range(n_inputs)],
        "weights": series("weight", "n_weights"),
        "grad_weights": series("grad_weight", "n_weights"),
        "outputs": series("output", "n_outputs"),
        "out_weights": series("out_weight", "n_outputs"),
        "extra": {k.split("/", 1)[1]: v for k, v in data.items() if k.startswith(name + "/")},
    }


def check_against_tf(layer, name: str, call, rtol=2e-5, atol=2e-6):
    """Run ``call(layer, tensors)`` on case ``name`` with its weights and compare with tf.keras."""
    ref = case(name)
    tensors = [ff.constant(x) for x in ref["inputs"]]
    for t, m in zip(tensors, ref["masks"]):
        if m is not None:
            t._keras_mask = ff.constant(m)
    call(layer, tensors)  # build
    assert len(layer.weights) == len(ref["weights"]), [w.name for w in layer.weights]
    for w, value in zip(layer.weights, ref["weights"]):
        assert tuple(w.shape) == value.shape, (w.name, w.shape, value.shape)
    layer.set_weights(ref["weights"])
    with ff.GradientTape() as tape:
        tape.watch(tensors)
        outs = call(layer, tensors)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        total = None
        for o, w in zip(outs, ref["out_weights"]):
            term = ff.reduce_sum(o * ff.constant(w))
            total = term if total is None else total + term
    grads = tape.gradient(total, tensors + list(layer.weights))
    assert len(outs) == len(ref["outputs"])
    for o, expected in zip(outs, ref["outputs"]):
        np.testing.assert_allclose(o.numpy(), expected, rtol=rtol, atol=atol)
    for g, expected in zip(grads, ref["grad_inputs"] + ref["grad_weights"]):
        actual = np.zeros_like(expected) if g is None else g.numpy()
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
    return outs
