"""Graph and embedding helpers: ``get_source_inputs`` and ``warmstart_embedding_matrix``.

>>> from featherflow import keras
>>> a = keras.Input((2,), name="a")
>>> y = keras.layers.Dense(1)(keras.layers.Dense(3)(a))
>>> [t.name for t in get_source_inputs(y)]
['a']
"""

from __future__ import annotations

import os

import numpy as np

from featherflow.core import Tensor


def get_source_inputs(tensor, layer=None, node_index=None) -> list:
    """The ``keras.Input`` tensors a symbolic tensor is computed from (each once, in the order reached)."""
    from featherflow.keras.layers.node import KerasTensor

    if not isinstance(tensor, KerasTensor) or tensor._keras_history is None:
        return [tensor]
    if layer is None:
        layer, node_index, _ = tensor._keras_history
    node = layer._inbound_nodes[node_index or 0]
    if not node.keras_inputs:
        return [tensor]  # an Input
    sources: list = []
    for inbound in node.keras_inputs:
        for source in get_source_inputs(inbound):
            if not any(source is s for s in sources):
                sources.append(source)
    return sources


def _vocabulary(vocab) -> list:
    if isinstance(vocab, Tensor):
        words = list(vocab.numpy())
    elif isinstance(vocab, (np.ndarray, tuple, list)):
        words = list(vocab)
    elif isinstance(vocab, (str, os.PathLike)):
        if not os.path.isfile(vocab):
            raise ValueError(f"Vocabulary file {vocab} does not exist.")
        with open(vocab, encoding="utf-8") as handle:
            words = handle.read().splitlines()
    else:
        raise ValueError("Vocabulary is expected to be either a NumPy array, list, 1D tensor or a vocabulary text "
                         f"file. Instead type {type(vocab)} was received.")
    if not words:
        raise ValueError("Vocabulary is expected to be either a NumPy array, list, 1D tensor or a vocabulary text "
                         "file with at least one token. Received 0 instead.")
    return words


def warmstart_embedding_matrix(base_vocabulary, new_vocabulary, base_embeddings, new_embeddings_initializer="uniform"):
    """An embedding matrix for ``new_vocabulary``: rows of words also in ``base_vocabulary`` copied from
    ``base_embeddings``, the others drawn from ``new_embeddings_initializer``.

    Args:
        base_vocabulary, new_vocabulary: lists, arrays, 1-D tensors or vocabulary files (one word a line).
        base_embeddings: ``(len(base_vocabulary), dim)``.
        new_embeddings_initializer: an initializer (name or object) for the new words' rows.

    Returns:
        A ``(len(new_vocabulary), dim)`` tensor.

    >>> m = warmstart_embedding_matrix(["a", "b"], ["b", "c"], np.array([[1.0], [2.0]]), "zeros")
    >>> m.numpy().tolist()
    [[2.0], [0.0]]
    """
    from featherflow.keras import initializers

    base = _vocabulary(base_vocabulary)
    new = _vocabulary(new_vocabulary)
    base_embeddings = np.asarray(base_embeddings.numpy() if isinstance(base_embeddings, Tensor) else base_embeddings)
    init = initializers.get(new_embeddings_initializer)
    matrix = np.array(np.asarray(init((len(new), base_embeddings.shape[1]), dtype=base_embeddings.dtype)),
                      dtype=base_embeddings.dtype)
    where = {word: i for i, word in enumerate(base)}
    for index, word in enumerate(new):
        if word in where:
            matrix[index] = base_embeddings[where[word]]
    return Tensor(matrix)
