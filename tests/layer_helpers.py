"""Reusable layer test: build, call (eager and functional), output shape, weight counts, config
round trip, one training step, and a float64 finite-difference gradient check.

Usage::

    from layer_helpers import layer_test
    layer_test(keras.layers.Dense, {"units": 3}, input_shape=(2, 4),
               expected_output_shape=(None, 3), expected_num_trainable_weights=2)

``input_shape`` includes the batch axis (as in Keras's own ``layer_test``); ``expected_output_shape``
may use ``None`` for any size. Returns the eager output as a NumPy array.
"""

from __future__ import annotations

import json

import numpy as np

import featherflow as ff
from featherflow import keras


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _shape_matches(actual, expected) -> bool:
    actual, expected = tuple(actual), tuple(expected)
    return len(actual) == len(expected) and all(e is None or a == e for a, e in zip(actual, expected))


def _random_input(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 5, size=shape).astype(dtype)
    return rng.uniform(-1.0, 1.0, size=shape).astype(dtype)


def _to_numpy(outputs):
    return [np.asarray(o.numpy()) for o in _as_list(outputs)]


def _config_key(config):
    config = dict(config)
    config.pop("name", None)
    return json.dumps(config, sort_keys=True, default=str)


def layer_test(layer_cls, kwargs=None, input_shape=None, input_data=None, input_dtype=None,
               expected_output_shape=None, expected_output_dtype=None, expected_output=None,
               expected_num_trainable_weights=None, expected_num_non_trainable_weights=None,
               supports_masking=None, call_kwargs=None, run_training_step=True, check_gradients=True,
               gradient_wrt_inputs=None, gradient_training=False, check_functional=True,
               rtol=1e-5, atol=1e-6, seed=0, positional_inputs=False):
    """Run the standard checks on ``layer_cls(**kwargs)`` and return the eager output(s).

    Args:
        layer_cls: the layer class.
        kwargs: constructor arguments.
        input_shape / input_data: the full input shape (batch first) or the data itself; a list
            of either for multi-input layers (merging layers).
        input_dtype: dtype of generated data (default floatx; integer dtypes give values in [0, 5)).
        expected_output_shape: tuple (``None`` = any size), or a list of tuples for several outputs.
        expected_output: optional reference values (computed independently by the caller).
        expected_num_trainable_weights / expected_num_non_trainable_weights: weight counts.
        supports_masking: when given, ``layer.supports_masking`` must equal it.
        call_kwargs: extra keyword arguments for every call.
        run_training_step: take one SGD step on ``sum(outputs**2)`` and check the trainable
            weights change (only when the layer has trainable weights).
        check_gradients: float64 central-difference check w.r.t. inputs and trainable weights.
        gradient_wrt_inputs: differentiate w.r.t. the inputs (default: when they are floats).
        gradient_training: call with ``training=True`` in the gradient check (the global seed is
            reset before every evaluation so random layers draw the same noise).
        check_functional: call on ``keras.Input`` and compare with ``compute_output_shape``.
        positional_inputs: pass several inputs as positional arguments (``layer(query, value)``,
            ``compute_output_shape(query_shape, value_shape)``) instead of one list.
    """
    kwargs = dict(kwargs or {})
    call_kwargs = dict(call_kwargs or {})
    multi = isinstance(input_data, (list, tuple)) or (
        isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)))
    if input_data is None:
        if input_shape is None:
            raise ValueError("layer_test needs input_shape or input_data")
        dtype = input_dtype or ff.floatx()
        shapes = input_shape if multi else [input_shape]
        datas = [_random_input(s, dtype, seed + i) for i, s in enumerate(shapes)]
    else:
        datas = [np.asarray(d) for d in (input_data if multi else [input_data])]
    shapes = [d.shape for d in datas]
    layer_input = datas if multi else datas[0]

    def apply(target, inputs, **kw):
        if positional_inputs and multi:
            return target(*inputs, **kw)
        return target(inputs, **kw)

    # -- eager call ---------------------------------------------------------------------
    layer = layer_cls(**kwargs)
    if supports_masking is not None:
        assert layer.supports_masking == supports_masking, (
            f"{layer_cls.__name__}.supports_masking is {layer.supports_masking}, expected {supports_masking}")
    outputs = apply(layer, layer_input, **call_kwargs)
    out_arrays = _to_numpy(outputs)
    expected_shapes = None
    if expected_output_shape is not None:
        expected_shapes = (expected_output_shape if isinstance(expected_output_shape, list)
                           else [expected_output_shape])
        assert len(expected_shapes) == len(out_arrays), f"expected {len(expected_shapes)} outputs"
        for arr, exp in zip(out_arrays, expected_shapes):
            assert _shape_matches(arr.shape, exp), f"output shape {arr.shape}, expected {exp}"
    if expected_output_dtype is not None:
        for arr in out_arrays:
            assert arr.dtype == np.dtype(expected_output_dtype), f"output dtype {arr.dtype}"
    if expected_output is not None:
        expected_list = [expected_output] if len(out_arrays) == 1 else list(expected_output)
        for arr, exp in zip(out_arrays, expected_list):
            np.testing.assert_allclose(arr, exp, rtol=rtol, atol=atol)

    # compute_output_shape on the concrete shape agrees with the actual output
    computed = apply(layer.compute_output_shape, shapes if multi else shapes[0])
    computed_list = computed if isinstance(computed, list) else [computed]
    for arr, comp in zip(out_arrays, computed_list):
        assert _shape_matches(arr.shape, comp) and len(tuple(comp)) == arr.ndim, (
            f"compute_output_shape gave {comp}, call gave {arr.shape}")

    # -- weights ------------------------------------------------------------------------
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights, (
            f"{len(layer.trainable_weights)} trainable weights, expected {expected_num_trainable_weights}")
    if expected_num_non_trainable_weights is not None:
        assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights, (
            f"{len(layer.non_trainable_weights)} non-trainable weights, expected "
            f"{expected_num_non_trainable_weights}")
    weights = layer.get_weights()
    assert len(weights) == len(layer.weights)
    assert layer.count_params() == sum(int(np.prod(w.shape)) for w in weights)

    # -- functional call ------------------------------------------------------------------
    inference = _to_numpy(apply(layer, layer_input, training=False, **call_kwargs))
    if check_functional:
        symbolic = [keras.Input(shape=s[1:], dtype=d.dtype.name) for s, d in zip(shapes, datas)]
        sym_out = apply(layer, symbolic if multi else symbolic[0], **call_kwargs)
        none_batch = [(None,) + tuple(s[1:]) for s in shapes]
        comp = apply(layer.compute_output_shape, none_batch if multi else none_batch[0])
        comp_list = comp if isinstance(comp, list) else [comp]
        for kt, c, arr in zip(_as_list(sym_out), comp_list, out_arrays):
            assert tuple(kt.shape) == tuple(c), f"functional shape {kt.shape} != compute_output_shape {c}"
            assert _shape_matches(arr.shape, kt.shape) and len(kt.shape) == arr.ndim
        model_cls = getattr(keras, "Model", None)
        if model_cls is not None:
            model = model_cls(symbolic if multi else symbolic[0], sym_out)
            model_out = model(layer_input if not multi else list(layer_input), training=False)
            for a, b in zip(_to_numpy(model_out), inference):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    # -- config round trip -------------------------------------------------------------------
    config = layer.get_config()
    json.dumps(config, default=lambda o: list(o) if isinstance(o, tuple) else str(o))
    clone = layer_cls.from_config(config)
    assert _config_key(clone.get_config()) == _config_key(config), (
        f"config does not round-trip:\n{clone.get_config()}\n!=\n{config}")
    apply(clone, layer_input, training=False, **call_kwargs)
    clone.set_weights(layer.get_weights())
    for a, b in zip(_to_numpy(apply(clone, layer_input, training=False, **call_kwargs)), inference):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    # -- one training step -------------------------------------------------------------------
    if run_training_step and layer.trainable_weights:
        before = [w.numpy() for w in layer.trainable_weights]
        with ff.GradientTape() as tape:
            outs = _as_list(apply(layer, layer_input, training=True, **call_kwargs))
            loss = None
            for o in outs:
                term = ff.reduce_sum(o * o)
                loss = term if loss is None else loss + term
        grads = tape.gradient(loss, layer.trainable_weights)
        for w, g in zip(layer.trainable_weights, grads):
            assert g is not None, f"no gradient for trainable weight {w.name}"
            assert g.shape == w.shape
            w.assign_sub(0.01 * g.numpy())
        after = [w.numpy() for w in layer.trainable_weights]
        assert any(not np.array_equal(a, b) for a, b in zip(before, after)), "training step changed no weight"

    # -- float64 gradient check ------------------------------------------------------------------
    if check_gradients:
        check_layer_gradients(layer_cls, kwargs, datas, multi, layer.get_weights(), call_kwargs,
                              gradient_wrt_inputs, gradient_training, seed, positional_inputs=positional_inputs)
    return out_arrays[0] if len(out_arrays) == 1 else out_arrays


def check_layer_gradients(layer_cls, kwargs, datas, multi=False, weights=None, call_kwargs=None,
                          wrt_inputs=None, training=False, seed=0, directions=3, eps=1e-6, rtol=1e-5,
                          atol=1e-7, positional_inputs=False):
    """Compare the tape's gradients of ``sum(w * layer(x))`` (fixed random ``w``) w.r.t. the float
    inputs and the trainable weights of a float64 copy of the layer with central differences."""
    call_kwargs = dict(call_kwargs or {})
    kwargs = dict(kwargs)
    kwargs["dtype"] = "float64"
    if training:
        # a layer-owned seeded generator would draw new noise per evaluation; the global one is reset instead
        kwargs.pop("seed", None)
    layer = layer_cls(**kwargs)
    arrays = [d.astype("float64") if d.dtype.kind == "f" else d for d in datas]

    def apply(inputs, **kw):
        return layer(*inputs, **kw) if positional_inputs and multi else layer(inputs, **kw)

    apply(arrays if multi else arrays[0], training=False, **call_kwargs)
    if weights is not None:
        layer.set_weights([np.asarray(w, dtype="float64") if np.asarray(w).dtype.kind == "f" else w
                           for w in weights])
    if wrt_inputs is None:
        wrt_inputs = all(a.dtype.kind == "f" for a in arrays)
    out_weights: dict = {}

    def forward(tensors, tape=None):
        if training:
            ff.random.set_seed(seed + 77)
        out = apply(tensors if multi else tensors[0], training=training, **call_kwargs)
        total = None
        for k, o in enumerate(_as_list(out)):
            if k not in out_weights:
                out_weights[k] = np.random.default_rng(100 + k).uniform(0.5, 1.5, size=o.shape)
            term = ff.reduce_sum(o * ff.constant(out_weights[k]))
            total = term if total is None else total + term
        return total

    tensors = [ff.constant(a) for a in arrays]
    with ff.GradientTape() as tape:
        if wrt_inputs:
            for t in tensors:
                tape.watch(t)
        total = forward(tensors)
    params = list(layer.trainable_weights)
    sources = (tensors if wrt_inputs else []) + params
    grads = tape.gradient(total, sources)
    rng = np.random.default_rng(seed)

    def objective():
        with ff.core.pause_all_tapes():
            return float(forward([ff.constant(a) for a in arrays]).numpy())

    for index, (source, grad) in enumerate(zip(sources, grads)):
        is_param = index >= (len(tensors) if wrt_inputs else 0)
        base = source.numpy().astype("float64")
        analytic = np.zeros_like(base) if grad is None else np.asarray(grad.numpy(), dtype="float64")
        assert analytic.shape == base.shape
        if base.size == 0:
            continue
        for _ in range(directions):
            v = rng.standard_normal(base.shape)
            values = []
            for sign in (1, -1):
                if is_param:
                    source.assign(base + sign * eps * v)
                else:
                    arrays[index] = base + sign * eps * v
                values.append(objective())
            if is_param:
                source.assign(base)
            else:
                arrays[index] = base
            numeric = (values[0] - values[1]) / (2 * eps)
            predicted = float((analytic * v).sum())
            tolerance = atol + rtol * max(1.0, abs(numeric), abs(predicted))
            name = source.name if is_param else f"input {index}"
            assert abs(numeric - predicted) <= tolerance, (
                f"{layer_cls.__name__}: gradient mismatch for {name}: finite differences {numeric:.8g}, "
                f"tape {predicted:.8g}")
