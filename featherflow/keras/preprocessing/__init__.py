"""``keras.preprocessing``: tf.keras's legacy data-preprocessing modules (re-exports only).

``image``: ``ImageDataGenerator`` and the image helpers. ``sequence``: ``pad_sequences``,
``TimeseriesGenerator``, ``skipgrams``. ``text``: ``Tokenizer`` and the word helpers. The ``*_dataset_from_*``
functions are ``keras.utils``'s.
"""

from featherflow.keras.preprocessing import image, sequence, text
from featherflow.keras.utils import (
    image_dataset_from_directory,
    text_dataset_from_directory,
    timeseries_dataset_from_array,
)
