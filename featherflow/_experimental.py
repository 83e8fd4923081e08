"""The ``experimental`` sub-namespaces of ``tf.random``, ``tf.nn`` and ``tf.linalg``, loaded on first use
(``featherflow/_lazy.py``) so that their ops do not slow ``import featherflow`` down."""

import types

from featherflow.ops.linalg_solve import conjugate_gradient
from featherflow.ops.nn_extra import general_dropout, stateless_dropout
from featherflow.ops.random_generator import (
    Algorithm,
    Generator,
    create_rng_state,
    get_global_generator,
    set_global_generator,
)
from featherflow.ops.random_stateless import fold_in, index_shuffle, split, stateless_shuffle

random = types.SimpleNamespace(  # tf.random.experimental
    Algorithm=Algorithm, Generator=Generator, create_rng_state=create_rng_state,
    get_global_generator=get_global_generator, set_global_generator=set_global_generator,
    index_shuffle=index_shuffle, stateless_fold_in=fold_in, stateless_split=split,
    stateless_shuffle=stateless_shuffle,
)
nn = types.SimpleNamespace(general_dropout=general_dropout, stateless_dropout=stateless_dropout)  # tf.nn.experimental
linalg = types.SimpleNamespace(conjugate_gradient=conjugate_gradient)  # tf.linalg.experimental
