"""``tf.lookup``: hash tables (``StaticHashTable``, ``StaticVocabularyTable``), their initializers and the mutable
tables of ``tf.lookup.experimental`` (re-exports only)."""

import types

from featherflow.lookup.tables import (  # noqa: F401
    DenseHashTable,
    KeyValueTensorInitializer,
    MutableHashTable,
    StaticHashTable,
    StaticVocabularyTable,
    TextFileIndex,
    TextFileInitializer,
)

experimental = types.SimpleNamespace(DenseHashTable=DenseHashTable, MutableHashTable=MutableHashTable)
