"""``featherflow.random``: seeded random tensors, TensorFlow's ``tf.random`` (re-exports only)."""

from featherflow._lazy import lazy_attributes as _lazy_attributes
from featherflow.ops.random import categorical, normal, set_seed, shuffle, truncated_normal, uniform  # noqa: F401

# less common names load on first use (featherflow/_lazy.py)
_LAZY = {
    "featherflow.ops.random_generator": ("Algorithm", "Generator", "all_candidate_sampler", "create_rng_state",
                                         "fixed_unigram_candidate_sampler", "gamma", "get_global_generator",
                                         "learned_unigram_candidate_sampler", "log_uniform_candidate_sampler",
                                         "poisson", "set_global_generator", "uniform_candidate_sampler"),
    "featherflow.ops.random_stateless": ("fold_in", "index_shuffle", "split", "stateless_binomial",
                                         "stateless_categorical", "stateless_gamma", "stateless_normal",
                                         "stateless_parameterized_truncated_normal", "stateless_poisson",
                                         "stateless_shuffle", "stateless_truncated_normal", "stateless_uniform"),
    "featherflow._experimental": ("experimental=random",),
}
__getattr__, __dir__ = _lazy_attributes(__name__, globals(), _LAZY)
