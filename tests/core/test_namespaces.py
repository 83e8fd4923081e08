"""The TensorFlow-style namespaces expose the ops under TensorFlow's names."""

import pytest

import featherflow as tf

TOP_LEVEL = """abs add add_n argmax argmin argsort boolean_mask broadcast_to cast clip_by_global_norm clip_by_norm
clip_by_value concat constant convert_to_tensor cos cumsum divide einsum equal exp expand_dims eye fill floor function
gather gather_nd greater identity linspace matmul maximum minimum multiply negative norm not_equal one_hot ones
ones_like pad pow print range rank reduce_all reduce_any reduce_logsumexp reduce_max reduce_mean reduce_min
reduce_prod reduce_std reduce_sum reduce_variance repeat reshape reverse round shape sigmoid sign sin size sort split
sqrt square squeeze stack stop_gradient subtract tanh tensordot tile transpose unstack where zeros zeros_like
GradientTape Variable Tensor TensorShape executing_eagerly""".split()
MATH = """abs add add_n argmax argmin ceil cos count_nonzero cumsum divide divide_no_nan equal erf erfc exp expm1 floor
floordiv floormod greater greater_equal in_top_k is_finite is_inf is_nan l2_normalize less less_equal log log1p
log_sigmoid log_softmax logical_and logical_not logical_or logical_xor maximum minimum mod multiply negative not_equal
pow reciprocal reduce_all reduce_any reduce_euclidean_norm reduce_logsumexp reduce_max reduce_mean reduce_min
reduce_prod reduce_std reduce_sum reduce_variance round rsqrt scalar_mul sigmoid sign sin softmax softplus softsign
sqrt square squared_difference subtract tan tanh top_k truediv""".split()
NN = """batch_normalization bias_add dropout elu embedding_lookup gelu in_top_k l2_loss l2_normalize leaky_relu
log_softmax moments relu relu6 selu sigmoid sigmoid_cross_entropy_with_logits silu softmax
softmax_cross_entropy_with_logits softplus softsign sparse_softmax_cross_entropy_with_logits swish tanh top_k""".split()
LINALG = "adjoint diag_part einsum eye global_norm l2_normalize matmul matrix_transpose norm tensordot trace".split()
RANDOM = "categorical normal set_seed shuffle truncated_normal uniform".split()


@pytest.mark.parametrize("namespace,names", [(tf, TOP_LEVEL), (tf.math, MATH), (tf.nn, NN), (tf.linalg, LINALG),
                                             (tf.random, RANDOM)],
                         ids=["tf", "tf.math", "tf.nn", "tf.linalg", "tf.random"])
def test_namespace_has_tensorflow_names(namespace, names):
    missing = [n for n in names if not callable(getattr(namespace, n, None))]
    assert missing == []


def test_dtype_names():
    assert tf.float32.name == "float32" and tf.int64.name == "int64" and tf.bool.name == "bool"
    assert tf.newaxis is None
