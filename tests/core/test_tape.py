import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff


def test_variable_watched_automatically():
    x = ff.Variable(3.0)
    with ff.GradientTape() as tape:
        y = x * x
    assert float(tape.gradient(y, x)) == 6.0


def test_constant_needs_watch():
    x = ff.constant(3.0)
    with ff.GradientTape() as tape:
        y = x * x
    assert tape.gradient(y, x) is None


def test_non_persistent_second_call_raises():
    x = ff.Variable(1.0)
    with ff.GradientTape() as tape:
        y = x * 2.0
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(y, x)


def test_persistent_and_nested_sources():
    a = ff.Variable([1.0, 2.0])
    b = ff.Variable(3.0)
    with ff.GradientTape(persistent=True) as tape:
        y = ff.reduce_sum(a * b)
    grads = tape.gradient(y, {"a": a, "pair": [b, (a,)]})
    np.testing.assert_allclose(grads["a"].numpy(), [3.0, 3.0])
    np.testing.assert_allclose(grads["pair"][0].numpy(), 3.0)
    np.testing.assert_allclose(grads["pair"][1][0].numpy(), [3.0, 3.0])
    np.testing.assert_allclose(tape.gradient(y, b).numpy(), 3.0)


def test_stop_recording_and_unconnected():
    x = ff.Variable(2.0)
    z = ff.Variable(5.0)
    with ff.GradientTape(persistent=True) as tape:
        y = x * x
        with tape.stop_recording():
            w = y * x
    assert tape.gradient(w, x) is None
    assert tape.gradient(y, z) is None
    assert float(tape.gradient(y, z, unconnected_gradients="zero")) == 0.0


def test_non_scalar_target_is_summed():
    x = ff.Variable([1.0, 2.0, 3.0])
    with ff.GradientTape() as tape:
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])


def test_broadcast_gradient_reduced_centrally():
    check_gradient(lambda a, b: a * b + a, [random_array((4, 3)), random_array((3,), seed=1)])
    check_gradient(lambda a, b: a - b, [random_array((2, 1, 3)), random_array((1, 4, 1), seed=1)])


def test_nested_tapes_give_the_second_derivative():
    # higher-order gradients are supported now (tests/core/test_higher_order.py has the full checks)
    x = ff.Variable(1.5)
    with ff.GradientTape() as outer:
        with ff.GradientTape() as inner:
            y = x * x * x
        dy = inner.gradient(y, x)
    assert float(dy) == pytest.approx(6.75) and float(outer.gradient(dy, x)) == pytest.approx(9.0)


def test_non_trainable_variable_not_watched():
    x = ff.Variable(1.0, trainable=False)
    with ff.GradientTape() as tape:
        y = x * 3.0
    assert tape.gradient(y, x) is None


def test_float32_in_float32_out_and_mixed_dtype_refused():
    a = ff.constant([1.0], dtype="float32")
    b = ff.constant([1.0], dtype="float64")
    assert (a + 1.0).dtype == ff.float32
    with pytest.raises(TypeError, match="same dtype"):
        _ = a + b
    with pytest.raises(TypeError):
        _ = ff.constant([1, 2]) * 0.5


def test_jacobian():
    x = ff.Variable([1.0, 2.0])
    with ff.GradientTape() as tape:
        y = x * x
    jac = tape.jacobian(y, x).numpy()
    np.testing.assert_allclose(jac, np.diag([2.0, 4.0]))


def test_bad_inputs():
    with pytest.raises(ValueError, match="ragged"):
        ff.constant([[1.0], [1.0, 2.0]])
    with pytest.raises(TypeError, match="expected numbers"):
        ff.constant([1.0, "abc"])  # mixed; ff.constant("abc") is a string tensor, as in TensorFlow
    with pytest.raises(ValueError, match="matmul"):
        ff.matmul(ff.ones((2, 3)), ff.ones((2, 3)))


def test_watch_accessed_variables_false_and_watched_variables():
    a = ff.Variable(2.0, name="a")
    b = ff.Variable(3.0, name="b")
    with ff.GradientTape(watch_accessed_variables=False, persistent=True) as tape:
        tape.watch(b)
        y = a * b
    assert tape.gradient(y, a) is None
    assert float(tape.gradient(y, b)) == 2.0
    assert tape.watched_variables() == (b,)
    with ff.GradientTape() as tape:
        _ = a * b + a
    assert [v.name for v in tape.watched_variables()] == ["a", "b"]


def test_watch_refuses_non_tensors():
    with ff.GradientTape() as tape:
        with pytest.raises(ValueError, match="GradientTape.watch expects tensors"):
            tape.watch([1.0, 2.0])


def test_output_gradients_weight_the_target():
    x = ff.Variable([1.0, 2.0, 3.0])
    with ff.GradientTape() as tape:
        y = x * x
    grad = tape.gradient(y, x, output_gradients=ff.constant([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(grad.numpy(), [2.0, 0.0, 12.0])


def test_list_of_targets_is_summed_and_sources_keep_structure():
    x = ff.Variable(2.0)
    y = ff.Variable(5.0)
    with ff.GradientTape() as tape:
        a = x * x
        b = x * y
    gx, gy = tape.gradient([a, b], (x, y))
    assert float(gx) == 2 * 2.0 + 5.0 and float(gy) == 2.0
    with ff.GradientTape() as tape:
        c = x * 3.0
    grads = tape.gradient(c, [x])
    assert isinstance(grads, list) and float(grads[0]) == 3.0


def test_gradient_with_respect_to_an_intermediate_tensor():
    x = ff.Variable(3.0)
    with ff.GradientTape() as tape:
        h = x * x
        y = h * 2.0 + h
    assert float(tape.gradient(y, h)) == 3.0


def test_reused_tensor_accumulates_gradients():
    x = ff.Variable([1.0, 2.0])
    with ff.GradientTape() as tape:
        h = x * 2.0
        y = ff.reduce_sum(h * h + h + ff.exp(h))
    expected = 2 * (2 * 2 * np.array([1.0, 2.0]) + 1 + np.exp(2 * np.array([1.0, 2.0])))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected, rtol=1e-6)


def test_gradient_called_inside_the_context_and_reentry_refused():
    x = ff.Variable(2.0)
    with ff.GradientTape() as tape:
        y = x * x
        assert float(tape.gradient(y, x)) == 4.0
        with pytest.raises(ValueError, match="already recording"):
            tape.__enter__()


def test_reset_forgets_recording():
    x = ff.Variable(2.0)
    with ff.GradientTape(persistent=True) as tape:
        y = x * x
        tape.reset()
        z = x * 3.0
    assert tape.gradient(y, x) is None
    assert float(tape.gradient(z, x)) == 3.0


def test_nested_tapes_both_record():
    x = ff.Variable(3.0)
    with ff.GradientTape() as outer:
        with ff.GradientTape() as inner:
            y = x * x
        z = y * 2.0
    assert float(outer.gradient(z, x)) == 12.0
    assert float(inner.gradient(y, x)) == 6.0  # outside the outer tape: a first-order gradient


def test_pause_all_tapes():
    x = ff.Variable(3.0)
    with ff.GradientTape() as tape:
        with ff.core.pause_all_tapes():
            y = x * x
        z = x * 2.0
    assert tape.gradient(y, x) is None
    with ff.GradientTape() as tape:
        z = x * 2.0
    assert float(tape.gradient(z, x)) == 2.0


def test_unconnected_zero_keeps_shape_and_dtype():
    x = ff.Variable([1.0, 2.0])
    z = ff.Variable(np.zeros((2, 3), dtype="float64"))
    with ff.GradientTape() as tape:
        y = x * 2.0
    gx, gz = tape.gradient(y, [x, z], unconnected_gradients=ff.UnconnectedGradients.ZERO)
    assert gz.shape == (2, 3) and gz.dtype == ff.float64 and not gz.numpy().any()
    np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0])


def test_gradient_returns_writable_independent_arrays():
    x = ff.Variable([[1.0, 2.0]])
    with ff.GradientTape() as tape:
        y = ff.reduce_sum(x)
    g = tape.gradient(y, x)
    g.numpy()[0, 0] = 5.0
    g.value[0, 0] = 7.0  # gradients are writable (optimizers may scale them in place)
    assert g.numpy()[0, 0] == 7.0


def test_integer_target_refused():
    x = ff.Variable(1.0)
    with ff.GradientTape() as tape:
        y = ff.cast(x, "int32")
    with pytest.raises(TypeError, match="target must be a floating-point tensor"):
        tape.gradient(y, x)


def test_multi_output_op_records_one_node():
    x = ff.Variable(np.arange(6.0).reshape(3, 2))
    with ff.GradientTape() as tape:
        a, b = ff.split(x, [1, 2], axis=0)
        y = ff.reduce_sum(a) * 3.0 + ff.reduce_sum(b * b)
    assert sum(1 for node in tape._nodes if node[4] == "split") == 1
    expected = np.vstack([np.full((1, 2), 3.0), 2 * np.arange(2.0, 6.0).reshape(2, 2)])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected)


def test_float64_sources_and_mixed_precision_graph():
    x = ff.Variable(np.array([1.0, 2.0]))  # float64 from a NumPy array
    with ff.GradientTape() as tape:
        y = ff.reduce_sum(ff.cast(x, "float32") * 3.0)
    g = tape.gradient(y, x)
    assert g.dtype == ff.float64
    np.testing.assert_array_equal(g.numpy(), [3.0, 3.0])


def test_jacobian_of_matrix_output_and_empty_target():
    w = ff.Variable([[1.0, 2.0], [3.0, 4.0]])
    x = ff.constant([[1.0, 1.0]])
    with ff.GradientTape(persistent=True) as tape:
        y = ff.matmul(x, w)
    jac = tape.jacobian(y, w).numpy()
    assert jac.shape == (1, 2, 2, 2)
    np.testing.assert_array_equal(jac[0, 0], [[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(jac[0, 1], [[0.0, 1.0], [0.0, 1.0]])
    with ff.GradientTape() as tape:
        empty = ff.reduce_sum(w, axis=1)[:0]
    assert tape.jacobian(empty, w).shape == (0, 2, 2)


def _probe(inputs, seen):
    """An op ``sum(inputs)`` whose backward rule notes the ``needs`` it is called with."""
    from featherflow.core.tape import record

    value = sum(t.value for t in inputs)

    def backward(g, needs):
        seen.append(list(needs))
        return tuple(g if need else None for need in needs)

    return record("probe", tuple(inputs), value, backward)


def test_gradient_runs_only_rules_on_paths_to_the_sources():
    # two tapes over one computation, as a GAN's: the discriminator's gradient must not run the generator's
    # rules, nor the generator's gradient ask for the discriminator's weight gradients (TensorFlow prunes alike)
    gen_w, disc_w = ff.Variable([1.0, 2.0]), ff.Variable([3.0, 4.0])
    gen_seen, disc_seen = [], []
    with ff.GradientTape() as gen_tape, ff.GradientTape() as disc_tape:
        fake = _probe([gen_w, gen_w], gen_seen) * 2.0
        logit = _probe([fake, disc_w], disc_seen)
        loss = ff.reduce_sum(logit * logit)
    grad_disc = disc_tape.gradient(loss, [disc_w])[0]
    assert gen_seen == [] and disc_seen == [[False, True]]
    grad_gen = gen_tape.gradient(loss, [gen_w])[0]
    assert disc_seen == [[False, True], [True, False]] and gen_seen == [[True, True]]
    logit_value = 2.0 * (2.0 * np.array([1.0, 2.0])) + np.array([3.0, 4.0])
    np.testing.assert_allclose(grad_disc.numpy(), 2.0 * logit_value)
    np.testing.assert_allclose(grad_gen.numpy(), 2.0 * logit_value * 2.0 * 2.0)


def test_gradient_with_respect_to_an_intermediate_skips_what_made_it():
    x = ff.Variable(3.0)
    seen = []
    with ff.GradientTape() as tape:
        h = _probe([x], seen)
        y = h * h
    assert float(tape.gradient(y, h)) == 6.0 and seen == []


def test_gradient_keeps_the_structure_of_the_sources():
    """tape.gradient returns the sources' structure: named tuples keep their type, dicts their key order and
    mixed key types work (as tf.nest.pack_sequence_as gives in TensorFlow)."""
    import collections

    Pair = collections.namedtuple("Pair", "w b")
    w, b, c = ff.Variable([1.0, 2.0]), ff.Variable(3.0), ff.Variable(5.0)
    sources = {"z": Pair(w, b), 1: [c]}
    with ff.GradientTape() as tape:
        loss = ff.reduce_sum(w * w) * b + 2.0 * c
    grads = tape.gradient(loss, sources)
    assert list(grads) == ["z", 1] and isinstance(grads["z"], Pair) and isinstance(grads[1], list)
    np.testing.assert_allclose(grads["z"].w.numpy(), [6.0, 12.0])  # 2 w b
    np.testing.assert_allclose(grads["z"].b.numpy(), 5.0)  # sum(w^2)
    np.testing.assert_allclose(grads[1][0].numpy(), 2.0)
