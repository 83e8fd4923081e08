"""``keras.layers.experimental.preprocessing``: the preprocessing layers under their tf.keras 2.x experimental
names (the same classes as in ``keras.layers``; the ``PreprocessingLayer`` base class is not provided)."""

_NAMES = ("CategoryEncoding", "CenterCrop", "Discretization", "HashedCrossing", "Hashing", "IntegerLookup",
          "Normalization", "RandomContrast", "RandomCrop", "RandomFlip", "RandomHeight", "RandomRotation",
          "RandomTranslation", "RandomWidth", "RandomZoom", "Rescaling", "Resizing", "StringLookup",
          "TextVectorization")


def __getattr__(name):
    if name in _NAMES:
        from featherflow.keras import layers  # loaded on use: this module is imported by keras.layers

        return getattr(layers, name)
    raise AttributeError(f"module 'featherflow.keras.layers.experimental.preprocessing' has no attribute {name!r}")


def __dir__():
    return sorted(_NAMES)
