"""``keras.callbacks.experimental``: ``BackupAndRestore`` under its experimental name (the same callback).

``UpdateEmbeddingCallback`` (for the experimental ``DynamicEmbedding`` layer) is not provided.
"""


def __getattr__(name):
    if name == "BackupAndRestore":  # loaded on first use: the saving callbacks import keras.callbacks
        from featherflow.keras.saving.checkpoint_callbacks import BackupAndRestore

        return BackupAndRestore
    raise AttributeError(f"module 'featherflow.keras.callbacks.experimental' has no attribute {name!r}")
