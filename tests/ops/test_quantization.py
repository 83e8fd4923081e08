"""tf.quantization's fake_quant ops and quantize_and_dequantize against TensorFlow 2.21 (fixtures written by
tests/io/fixtures/make_io_fixtures.py): values, and the straight-through gradients TF uses."""

from pathlib import Path

import numpy as np
import pytest

import featherflow as tf

TF = np.load(Path(__file__).parent.parent / "io" / "fixtures" / "quantization_tf.npz")
CASES = [(8, False, -6.0, 6.0), (4, True, -0.1, 6.3), (8, False, 0.5, 3.0), (2, False, -1.0, 1.0)]


@pytest.mark.parametrize("bits,narrow,lo,hi", CASES)
def test_fake_quant_values_and_gradients(bits, narrow, lo, hi):
    key = f"{bits}_{int(narrow)}_{lo}_{hi}"
    x = tf.constant(TF["x"])
    mn, mx = tf.Variable(lo), tf.Variable(hi)
    weights = tf.constant(np.linspace(0.5, 1.5, TF["x"].size).astype(np.float32))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        args = tf.quantization.fake_quant_with_min_max_args(x, lo, hi, num_bits=bits, narrow_range=narrow)
        var = tf.quantization.fake_quant_with_min_max_vars(x, mn, mx, num_bits=bits, narrow_range=narrow)
        loss_args = tf.reduce_sum(args * weights)
        loss_vars = tf.reduce_sum(var * weights)
    np.testing.assert_array_equal(args.numpy(), TF[f"args_{key}"])
    np.testing.assert_array_equal(var.numpy(), TF[f"vars_{key}"])
    np.testing.assert_allclose(tape.gradient(loss_args, x).numpy(), TF[f"grad_args_{key}"], rtol=1e-6)
    gx, gmin, gmax = tape.gradient(loss_vars, [x, mn, mx])
    np.testing.assert_allclose(np.concatenate([gx.numpy(), [gmin.numpy(), gmax.numpy()]]),
                               TF[f"grad_vars_{key}"], rtol=1e-5)
    direct = tf.quantization.fake_quant_with_min_max_args_gradient(weights, x, lo, hi, bits, narrow)
    np.testing.assert_allclose(direct.numpy(), TF[f"grad_args_{key}"], rtol=1e-6)
    backprops = tf.quantization.fake_quant_with_min_max_vars_gradient(weights, x, lo, hi, bits, narrow)
    np.testing.assert_allclose(np.concatenate([backprops[0].numpy(), [backprops[1].numpy(), backprops[2].numpy()]]),
                               TF[f"grad_vars_{key}"], rtol=1e-5)


def test_per_channel_values_and_gradients():
    x = tf.constant(TF["x"][:60].reshape(20, 3))
    mins, maxs = tf.Variable([-1.0, 0.0, -5.0]), tf.Variable([1.0, 4.0, 5.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.quantization.fake_quant_with_min_max_vars_per_channel(x, mins, maxs, num_bits=6)
        loss = tf.reduce_sum(out * tf.reshape(tf.range(60, dtype=tf.float32), (20, 3)))
    np.testing.assert_allclose(out.numpy(), TF["per_channel"], rtol=1e-6)  # TF's per-channel kernel rounds once more
    gx, gmin, gmax = tape.gradient(loss, [x, mins, maxs])
    np.testing.assert_allclose(gx.numpy(), TF["per_channel_grad_x"])
    np.testing.assert_allclose(gmin.numpy(), TF["per_channel_grad_min"])
    np.testing.assert_allclose(gmax.numpy(), TF["per_channel_grad_max"])
    with pytest.raises(ValueError, match="last dimension"):
        tf.quantization.fake_quant_with_min_max_vars_per_channel(x, [0.0], [1.0])


def test_quantize_and_dequantize():
    qd = tf.constant([-1.0, 0.3, 0.5, 2.0, 7.0])
    np.testing.assert_allclose(tf.quantization.quantize_and_dequantize_v2(qd, -1.0, 2.0).numpy(), TF["qdq_v2"],
                               rtol=1e-6)
    np.testing.assert_allclose(tf.quantization.quantize_and_dequantize_v2(
        qd, -1.0, 2.0, range_given=True, num_bits=4).numpy(), TF["qdq_v2_range_given"], rtol=1e-6)
    np.testing.assert_allclose(tf.quantization.quantize_and_dequantize_v2(
        tf.abs(qd), 0.0, 2.0, signed_input=False, range_given=True).numpy(), TF["qdq_unsigned"], rtol=1e-6)
    with tf.GradientTape() as tape:
        tape.watch(qd)
        out = tf.quantization.quantize_and_dequantize_v2(qd, -1.0, 2.0, range_given=True)
    assert tape.gradient(out, qd).numpy().tolist() == [1, 1, 1, 1, 0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="min has to be smaller than max"):
        tf.quantization.fake_quant_with_min_max_args([1.0], min=1.0, max=1.0)
    with pytest.raises(ValueError, match="num_bits must be between 2 and 16"):
        tf.quantization.fake_quant_with_min_max_args([1.0], num_bits=1)
    with pytest.raises(TypeError, match="float32"):
        tf.quantization.fake_quant_with_min_max_args(tf.constant([1.0], tf.float64))
