"""The course's MNIST example with ``import featherflow as tf`` (runs offline on the bundled sample).

The first block is the lecture's code unchanged except for the import line and ``sample=True``
(the 4,000/1,000-digit MNIST sample shipped with featherflow; drop it to download the full set).
The second block is what the lecture does next: ``summary()``, ``model.layers``, the first hidden
layer's weights, a prediction for one test digit and ``predict_classes``.

Run: ``python examples/seed_example.py``
"""

import warnings

import numpy as np

import featherflow as tf

mnist = tf.keras.datasets.mnist

(x_train, y_train), (x_test, y_test) = mnist.load_data(sample=True)
x_train, x_test = x_train / 255.0, x_test / 255.0

model = tf.keras.models.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation='relu'),
    tf.keras.layers.Dropout(0.2),
    tf.keras.layers.Dense(10, activation='softmax')
])

loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=False)

model.compile(optimizer='adam',
              loss=loss_fn,
              metrics=['accuracy'])

model.fit(x_train, y_train, epochs=5)
model.evaluate(x_test, y_test)

# -- the lecture's follow-ups -------------------------------------------------------------------
model.summary()
print(model.layers)
hidden1 = model.layers[1]
print(hidden1.name)
weights, biases = hidden1.get_weights()
print(weights.shape, biases.shape)

digit = x_test[42:43]
y_prob = model.predict(digit)
print(y_prob.round(2))
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # predict_classes is deprecated, as in tf.keras
    y_pred = model.predict_classes(digit)
print(y_pred.round(2), "(label:", int(y_test[42]), ") argmax:", int(np.argmax(y_prob, axis=-1)[0]))
