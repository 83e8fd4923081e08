"""``keras.preprocessing``: tf.keras's legacy data-preprocessing modules (re-exports only).

``image``: ``ImageDataGenerator`` and the image helpers.
"""

from featherflow.keras.preprocessing import image
