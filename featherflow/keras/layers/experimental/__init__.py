"""``keras.layers.experimental``: ``RandomFourierFeatures``, ``SyncBatchNormalization``, ``EinsumDense`` and the
``preprocessing`` names (re-exports).

``DynamicEmbedding`` and ``DynamicLookup`` (vocabularies that grow while training) are not provided.
"""

from featherflow.keras.layers.einsum_dense import EinsumDense
from featherflow.keras.layers.experimental import preprocessing
from featherflow.keras.layers.experimental.kernelized import RandomFourierFeatures, SyncBatchNormalization

__all__ = ["EinsumDense", "RandomFourierFeatures", "SyncBatchNormalization", "preprocessing"]
