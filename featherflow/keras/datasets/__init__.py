"""``keras.datasets``: tf.keras's data set loaders, downloaded into Keras's cache and verified.

Files go to ``$KERAS_HOME/datasets`` or ``~/.keras/datasets`` (shared with tf.keras), each checked
against the hash tf.keras publishes. Set ``FEATHERFLOW_DATASETS_ORIGIN`` to a mirror's base URL
to fetch ``<base>/<file name>`` instead of the original origins. ``mnist.load_sample()`` (or
``mnist.load_data(sample=True)``) gives 5,000 real digits bundled with featherflow, offline.
"""

from featherflow.keras.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
