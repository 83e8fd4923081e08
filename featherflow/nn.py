"""``featherflow.nn``: TensorFlow's ``tf.nn`` namespace (re-exports only)."""

from featherflow.ops import (  # noqa: F401
    avg_pool,
    avg_pool1d,
    avg_pool2d,
    batch_normalization,
    bias_add,
    conv1d,
    conv2d,
    conv2d_transpose,
    depthwise_conv2d,
    dropout,
    elu,
    embedding_lookup,
    gelu,
    in_top_k,
    l2_loss,
    l2_normalize,
    leaky_relu,
    log_sigmoid,
    log_softmax,
    max_pool,
    max_pool1d,
    max_pool2d,
    moments,
    relu,
    relu6,
    selu,
    sigmoid,
    sigmoid_cross_entropy_with_logits,
    silu,
    softmax,
    softmax_cross_entropy_with_logits,
    softplus,
    softsign,
    sparse_softmax_cross_entropy_with_logits,
    swish,
    tanh,
    top_k,
)
from featherflow.ops.blocks import depth_to_space, space_to_depth  # noqa: F401
from featherflow.ops.blocks import space_to_batch_nd as space_to_batch  # noqa: F401
from featherflow.ops.conv3d import avg_pool3d, conv3d, conv3d_transpose, max_pool3d  # noqa: F401
from featherflow.ops.eager_api import approx_max_k, approx_min_k  # noqa: F401
from featherflow.ops.random_generator import (  # noqa: F401
    all_candidate_sampler,
    fixed_unigram_candidate_sampler,
    learned_unigram_candidate_sampler,
)
