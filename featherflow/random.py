"""``featherflow.random``: seeded random tensors, TensorFlow's ``tf.random`` (re-exports only)."""

import types as _types

from featherflow.ops.random import categorical, normal, set_seed, shuffle, truncated_normal, uniform  # noqa: F401
from featherflow.ops.random_generator import (  # noqa: F401
    Algorithm,
    Generator,
    all_candidate_sampler,
    create_rng_state,
    fixed_unigram_candidate_sampler,
    gamma,
    get_global_generator,
    learned_unigram_candidate_sampler,
    log_uniform_candidate_sampler,
    poisson,
    set_global_generator,
    uniform_candidate_sampler,
)
from featherflow.ops.random_stateless import (  # noqa: F401
    fold_in,
    index_shuffle,
    split,
    stateless_binomial,
    stateless_categorical,
    stateless_gamma,
    stateless_normal,
    stateless_parameterized_truncated_normal,
    stateless_poisson,
    stateless_shuffle,
    stateless_truncated_normal,
    stateless_uniform,
)

experimental = _types.SimpleNamespace(  # tf.random.experimental
    Algorithm=Algorithm, Generator=Generator, create_rng_state=create_rng_state,
    get_global_generator=get_global_generator, set_global_generator=set_global_generator,
    index_shuffle=index_shuffle, stateless_fold_in=fold_in, stateless_split=split,
    stateless_shuffle=stateless_shuffle,
)
