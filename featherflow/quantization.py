"""``featherflow.quantization``: TensorFlow's ``tf.quantization`` namespace (re-exports only)."""

from featherflow.ops.quantization import (  # noqa: F401
    fake_quant_with_min_max_args,
    fake_quant_with_min_max_args_gradient,
    fake_quant_with_min_max_vars,
    fake_quant_with_min_max_vars_gradient,
    fake_quant_with_min_max_vars_per_channel,
    fake_quant_with_min_max_vars_per_channel_gradient,
    quantize_and_dequantize,
    quantize_and_dequantize_v2,
)
