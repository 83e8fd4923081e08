"""``tf.quantization``: fake quantization (quantization-aware training) and quantize-dequantize round trips.

``fake_quant_*`` clamp to a range nudged so that 0.0 is exactly representable, round to ``2**num_bits``
levels and map back (TensorFlow's ``FakeQuantWithMinMax*`` kernels, in float32). Their gradients are the
straight-through rules TensorFlow uses: the incoming gradient passes where the input lies inside the
nudged range and is 0 outside; for the ``_vars`` forms, ``min`` receives the sum of the gradient below the
range and ``max`` the sum above it.

>>> fake_quant_with_min_max_args([-7.0, 0.26, 7.0], min=-6.0, max=6.0).numpy()
array([-6.0235295 ,  0.28235295,  5.9764705 ], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from featherflow.core.tape import record
from featherflow.core.tensor import Tensor
from featherflow.ops._convert import as_tensor


def _nudge(low: np.ndarray, high: np.ndarray, num_bits: int, narrow_range: bool) -> tuple:
    """TensorFlow's ``Nudge``: the range moved so that zero is a quantization level, and its scale (float32)."""
    quant_min = np.float32(1 if narrow_range else 0)
    quant_max = np.float32((1 << num_bits) - 1)
    scale = ((high - low) / (quant_max - quant_min)).astype(np.float32)
    zero_from_min = (quant_min - low / scale).astype(np.float32)
    nudged_zero = np.where(zero_from_min < quant_min, quant_min, np.where(
        zero_from_min > quant_max, quant_max, np.sign(zero_from_min) * np.floor(np.abs(zero_from_min) + 0.5)))
    nudged_zero = nudged_zero.astype(np.float32)
    return ((quant_min - nudged_zero) * scale).astype(np.float32), ((quant_max - nudged_zero) * scale).astype(
        np.float32), scale


def _check(num_bits: int, op: str) -> int:
    if not 2 <= int(num_bits) <= 16:
        raise ValueError(f"{op}: num_bits must be between 2 and 16, inclusive. Received: num_bits={num_bits}")
    return int(num_bits)


def _fake_quant(x: np.ndarray, low, high, num_bits: int, narrow_range: bool, divide: bool = False) -> tuple:
    nudged_min, nudged_max, scale = _nudge(np.asarray(low, np.float32), np.asarray(high, np.float32), num_bits,
                                           narrow_range)
    clamped = np.clip(x, nudged_min, nudged_max).astype(np.float32)
    inverse = (np.float32(1.0) / scale).astype(np.float32)  # TensorFlow multiplies by the inverse scale
    difference = (clamped - nudged_min).astype(np.float32)
    if divide:  # the _vars kernels divide by the scale (an exact tie like 170.5 comes out 170.49998 there)
        halfway = (difference / scale).astype(np.float32) + np.float32(0.5)
    else:
        halfway = (difference * inverse).astype(np.float32) + np.float32(0.5)
    # One rounding for level * scale + min, as the fused multiply-add of TensorFlow's compiled kernel.
    levels = np.floor(halfway).astype(np.float64)
    out = (levels * scale.astype(np.float64) + nudged_min.astype(np.float64)).astype(np.float32)
    return out, nudged_min, nudged_max


def _float32(x, op: str, arg: str) -> Tensor:
    t = as_tensor(x, op, arg)
    if t.value.dtype != np.float32:
        t = as_tensor(np.asarray(t.value, np.float32), op, arg) if not isinstance(x, Tensor) else t
    if t.value.dtype != np.float32:
        raise TypeError(f"{op}: `{arg}` must be float32 (TensorFlow's kernel is float32 only). Received dtype "
                        f"{t.value.dtype.name}")
    return t


def fake_quant_with_min_max_args(inputs, min=-6, max=6, num_bits=8, narrow_range=False,  # noqa: A002
                                 name=None) -> Tensor:
    """Fake-quantize ``inputs`` (float32) to ``num_bits`` levels over ``[min, max]`` (Python floats).

    Args:
        inputs: a float32 tensor.
        min, max: the range (``min < max``); nudged so that 0.0 is a level.
        num_bits: 2 to 16.
        narrow_range: use levels ``1 .. 2**num_bits - 1`` instead of from 0.
    """
    op = "fake_quant_with_min_max_args"
    num_bits = _check(num_bits, op)
    if not min < max:
        raise ValueError(f"{op}: min has to be smaller than max, was: min={min}, max={max}")
    x = _float32(inputs, op, "inputs")
    out, low, high = _fake_quant(x.value, min, max, num_bits, narrow_range)
    inside = (x.value >= low) & (x.value <= high)
    return record(op, [x], out, lambda g, needs: (g * inside,))


def fake_quant_with_min_max_args_gradient(gradients, inputs, min=-6, max=6, num_bits=8,  # noqa: A002
                                          narrow_range=False, name=None) -> Tensor:
    """The straight-through gradient of ``fake_quant_with_min_max_args``: ``gradients`` inside the range."""
    low, high, _ = _nudge(np.float32(min), np.float32(max), _check(num_bits, "fake_quant"), narrow_range)
    x = _float32(inputs, "fake_quant_with_min_max_args_gradient", "inputs").value
    return Tensor((np.asarray(as_tensor(gradients, "fake_quant", "gradients").value, np.float32)
                   * ((x >= low) & (x <= high))).astype(np.float32))


def _vars(op: str, inputs, low, high, num_bits, narrow_range, per_channel: bool) -> Tensor:
    num_bits = _check(num_bits, op)
    x = _float32(inputs, op, "inputs")
    lo, hi = _float32(low, op, "min"), _float32(high, op, "max")
    if per_channel and (lo.value.shape != (x.value.shape[-1],) or hi.value.shape != lo.value.shape):
        raise ValueError(f"{op}: min and max must be vectors of the last dimension's size {x.value.shape[-1]}. "
                         f"Received: min.shape={lo.shape}, max.shape={hi.shape}")
    if not per_channel and (lo.value.ndim or hi.value.ndim):
        raise ValueError(f"{op}: min and max must be scalars. Received: min.shape={lo.shape}, max.shape={hi.shape}")
    out, nudged_min, nudged_max = _fake_quant(x.value, lo.value, hi.value, num_bits, narrow_range, divide=True)
    below, above = x.value < nudged_min, x.value > nudged_max
    axes = tuple(range(x.value.ndim - 1)) if per_channel else None

    def backward(g, needs):
        g = np.asarray(g, np.float32)
        return (g * ~(below | above), np.sum(g * below, axis=axes).astype(np.float32),
                np.sum(g * above, axis=axes).astype(np.float32))

    return record(op, [x, lo, hi], out, backward)


def fake_quant_with_min_max_vars(inputs, min, max, num_bits=8, narrow_range=False, name=None) -> Tensor:  # noqa: A002
    """``fake_quant_with_min_max_args`` with ``min``/``max`` as tensors (scalars), which receive gradients too."""
    return _vars("fake_quant_with_min_max_vars", inputs, min, max, num_bits, narrow_range, per_channel=False)


def fake_quant_with_min_max_vars_per_channel(inputs, min, max, num_bits=8, narrow_range=False,  # noqa: A002
                                             name=None) -> Tensor:
    """``fake_quant_with_min_max_vars`` with one ``[min, max]`` per channel (the last axis)."""
    return _vars("fake_quant_with_min_max_vars_per_channel", inputs, min, max, num_bits, narrow_range,
                 per_channel=True)


def _vars_gradient(gradients, inputs, low, high, num_bits, narrow_range, per_channel) -> tuple:
    from featherflow.core.tape import GradientTape

    x = Tensor(np.asarray(as_tensor(inputs, "fake_quant", "inputs").value, np.float32))
    lo = Tensor(np.asarray(as_tensor(low, "fake_quant", "min").value, np.float32))
    hi = Tensor(np.asarray(as_tensor(high, "fake_quant", "max").value, np.float32))
    with GradientTape() as tape:
        tape.watch([x, lo, hi])
        out = _vars("fake_quant", x, lo, hi, num_bits, narrow_range, per_channel)
    return tuple(tape.gradient(out, [x, lo, hi], output_gradients=as_tensor(gradients, "fake_quant", "gradients")))


def fake_quant_with_min_max_vars_gradient(gradients, inputs, min, max, num_bits=8, narrow_range=False,  # noqa: A002
                                          name=None) -> tuple:
    """``(backprops_wrt_input, backprop_wrt_min, backprop_wrt_max)`` of ``fake_quant_with_min_max_vars``."""
    return _vars_gradient(gradients, inputs, min, max, num_bits, narrow_range, per_channel=False)


def fake_quant_with_min_max_vars_per_channel_gradient(gradients, inputs, min, max, num_bits=8,  # noqa: A002
                                                      narrow_range=False, name=None) -> tuple:
    """The three gradients of ``fake_quant_with_min_max_vars_per_channel``."""
    return _vars_gradient(gradients, inputs, min, max, num_bits, narrow_range, per_channel=True)


def _quantize_dequantize(x: np.ndarray, input_min, input_max, signed_input, num_bits, range_given, narrow_range,
                         round_mode) -> np.ndarray:
    if signed_input:
        min_q = -(1 << (num_bits - 1)) + (1 if narrow_range else 0)
        max_q = (1 << (num_bits - 1)) - 1
    else:
        min_q, max_q = 0, (1 << num_bits) - 1
    low, high = (float(input_min), float(input_max)) if range_given else (float(x.min()), float(x.max()))
    if range_given and low > high:
        raise ValueError(f"Invalid range: input_min {low} > input_max {high}")
    big = np.finfo(np.float32).max
    from_min = min_q / low if min_q * low > 0 else big
    from_max = max_q / high if max_q * high > 0 else big
    if from_min < from_max:
        scale, inverse = from_min, low / min_q
        high = max_q * inverse
    else:
        scale, inverse = from_max, high / max_q
        low = min_q * inverse
    scaled = np.clip(x, low, high) * scale
    rounded = np.round(scaled) if round_mode == "HALF_TO_EVEN" else np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return (rounded * inverse).astype(x.dtype)


def quantize_and_dequantize_v2(input, input_min, input_max, signed_input=True, num_bits=8,  # noqa: A002
                               range_given=False, round_mode="HALF_TO_EVEN", name=None, narrow_range=False,
                               axis=None) -> Tensor:
    """Quantize ``input`` to ``num_bits`` and back (TensorFlow's QuantizeAndDequantizeV4): with
    ``range_given=False`` the range is the input's own min and max; the scale keeps 0.0 exact. The gradient
    passes straight through where the input lies in ``[input_min, input_max]``.

    Args:
        input: a float tensor.
        input_min, input_max: the range (used when ``range_given``).
        signed_input: quantize to signed levels (``-2**(b-1) .. 2**(b-1)-1``) or unsigned (``0 .. 2**b-1``).
        num_bits: the bit width.
        round_mode: ``"HALF_TO_EVEN"`` or ``"HALF_UP"``.
        axis: per-axis ranges are not supported (``None`` only).
    """
    if axis is not None:
        raise ValueError("quantize_and_dequantize: per-axis quantization (axis) is not supported by featherflow. "
                         f"Received: axis={axis}")
    if round_mode not in ("HALF_TO_EVEN", "HALF_UP"):
        raise ValueError(f"round_mode must be 'HALF_TO_EVEN' or 'HALF_UP'. Received: round_mode={round_mode!r}")
    x = as_tensor(input, "quantize_and_dequantize", "input")
    low = float(np.asarray(as_tensor(input_min, "quantize_and_dequantize", "input_min").value))
    high = float(np.asarray(as_tensor(input_max, "quantize_and_dequantize", "input_max").value))
    out = _quantize_dequantize(x.value, low, high, signed_input, int(num_bits), range_given, narrow_range, round_mode)
    inside = (x.value >= low) & (x.value <= high)
    return record("quantize_and_dequantize", [x], out, lambda g, needs: (g * inside,))


def quantize_and_dequantize(input, input_min, input_max, signed_input=True, num_bits=8,  # noqa: A002
                            range_given=False, round_mode="HALF_TO_EVEN", name=None, narrow_range=False,
                            axis=None) -> Tensor:
    """The deprecated form of ``quantize_and_dequantize_v2`` (its gradient is the identity, as TensorFlow's V2
    kernel's)."""
    x = as_tensor(input, "quantize_and_dequantize", "input")
    out = quantize_and_dequantize_v2(Tensor(x.value), input_min, input_max, signed_input, num_bits, range_given,
                                     round_mode, name, narrow_range, axis)
    return record("quantize_and_dequantize", [x], out.value, lambda g, needs: (g,))
