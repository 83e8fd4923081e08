"""``featherflow.nn``: TensorFlow's ``tf.nn`` namespace (re-exports only)."""

import types as _types

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
from featherflow.ops.counting import zero_fraction  # noqa: F401
from featherflow.ops.eager_api import approx_max_k, approx_min_k  # noqa: F401
from featherflow.ops.nn_extra import (  # noqa: F401
    atrous_conv2d,
    atrous_conv2d_transpose,
    conv1d_transpose,
    conv_transpose,
    convolution,
    crelu,
    depthwise_conv2d_backprop_filter,
    depthwise_conv2d_backprop_input,
    dilation2d,
    erosion2d,
    fractional_avg_pool,
    fractional_max_pool,
    general_dropout,
    local_response_normalization,
    lrn,
    max_pool_with_argmax,
    pool,
    separable_conv2d,
    stateless_dropout,
    with_space_to_batch,
)
from featherflow.ops.nn_losses import (  # noqa: F401
    batch_norm_with_global_normalization,
    collapse_repeated,
    compute_accidental_hits,
    compute_average_loss,
    ctc_beam_search_decoder,
    ctc_greedy_decoder,
    ctc_loss,
    ctc_unique_labels,
    embedding_lookup_sparse,
    isotonic_regression,
    log_poisson_loss,
    nce_loss,
    normalize_moments,
    safe_embedding_lookup_sparse,
    sampled_softmax_loss,
    scale_regularization_loss,
    sufficient_statistics,
    weighted_cross_entropy_with_logits,
    weighted_moments,
)
from featherflow.ops.random_generator import (  # noqa: F401
    all_candidate_sampler,
    fixed_unigram_candidate_sampler,
    learned_unigram_candidate_sampler,
)

experimental = _types.SimpleNamespace(general_dropout=general_dropout,  # tf.nn.experimental
                                      stateless_dropout=stateless_dropout)
