"""tensorflow.org "Convolutional Neural Network" and "Intro to Autoencoders" tutorials, on MNIST digits.

A Conv2D/MaxPooling2D/Flatten/Dense classifier (the tutorial's architecture, scaled down) with
`validation_data` and `plt`-free history checks; a dense autoencoder as a `Model` subclass with Sequential
encoder/decoder and a `Reshape`; a convolutional denoising autoencoder (`Conv2D(strides=2)` down,
`Conv2DTranspose` up) trained on images corrupted with `tf.random.normal` and `tf.clip_by_value`; anomaly
detection by thresholding the reconstruction error (`tf.keras.losses.mae`, `np.mean + np.std`, `tf.math.less`).
"""

import numpy as np
from program_data import mnist_sample

import featherflow as tf
from featherflow.keras import layers, losses
from featherflow.keras.models import Model


def load_images(n_train, n_test):
    (x_train, y_train), (x_test, y_test) = mnist_sample(n_train, n_test)
    return (x_train.astype("float32") / 255.0, y_train), (x_test.astype("float32") / 255.0, y_test)


def test_cnn_classifier():
    tf.keras.utils.set_random_seed(0)
    (train_images, train_labels), (test_images, test_labels) = load_images(1200, 400)
    train_images, test_images = train_images[..., None], test_images[..., None]

    model = tf.keras.models.Sequential()
    model.add(layers.Conv2D(8, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(16, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(16, (3, 3), activation="relu"))
    assert model.output_shape == (None, 3, 3, 16)
    model.add(layers.Flatten())
    model.add(layers.Dense(32, activation="relu"))
    model.add(layers.Dense(10))
    assert model.count_params() == (9 * 8 + 8) + (9 * 8 * 16 + 16) + (9 * 16 * 16 + 16) + (144 * 32 + 32) + 330

    model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(train_images, train_labels, epochs=3, validation_data=(test_images, test_labels),
                        verbose=0)
    assert history.history["accuracy"][-1] > history.history["accuracy"][0]
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    assert abs(test_acc - history.history["val_accuracy"][-1]) < 1e-6
    assert test_acc > 0.7, test_acc  # real digits, 1,200 of them for 3 epochs; chance is 10 %


class Autoencoder(Model):
    def __init__(self, latent_dim, shape):
        super().__init__()
        self.latent_dim = latent_dim
        self.shape = shape
        self.encoder = tf.keras.Sequential([
            layers.Flatten(),
            layers.Dense(latent_dim, activation="relu"),
        ])
        self.decoder = tf.keras.Sequential([
            layers.Dense(tf.math.reduce_prod(shape).numpy(), activation="sigmoid"),
            layers.Reshape(shape),
        ])

    def call(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded


def test_dense_autoencoder():
    tf.keras.utils.set_random_seed(0)
    (x_train, _), (x_test, _) = load_images(1000, 200)
    shape = x_test.shape[1:]
    autoencoder = Autoencoder(32, shape)
    autoencoder.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss=losses.MeanSquaredError())
    history = autoencoder.fit(x_train, x_train, epochs=10, shuffle=True, validation_data=(x_test, x_test),
                              verbose=0)
    encoded_imgs = autoencoder.encoder(x_test).numpy()
    decoded_imgs = autoencoder.decoder(encoded_imgs).numpy()
    assert encoded_imgs.shape == (200, 32) and decoded_imgs.shape == (200, 28, 28)
    mse = np.mean((decoded_imgs - x_test) ** 2)
    np.testing.assert_allclose(history.history["val_loss"][-1], mse, rtol=1e-4)
    # Better than the best constant image (the per-pixel mean).
    baseline = np.mean((x_test - x_train.mean(axis=0)) ** 2)
    assert mse < 0.8 * baseline, (mse, baseline)


class Denoise(Model):
    def __init__(self):
        super().__init__()
        self.encoder = tf.keras.Sequential([
            layers.Input(shape=(28, 28, 1)),
            layers.Conv2D(16, (3, 3), activation="relu", padding="same", strides=2),
            layers.Conv2D(8, (3, 3), activation="relu", padding="same", strides=2)])
        self.decoder = tf.keras.Sequential([
            layers.Conv2DTranspose(8, kernel_size=3, strides=2, activation="relu", padding="same"),
            layers.Conv2DTranspose(16, kernel_size=3, strides=2, activation="relu", padding="same"),
            layers.Conv2D(1, kernel_size=(3, 3), activation="sigmoid", padding="same")])

    def call(self, x):
        return self.decoder(self.encoder(x))


def test_denoising_autoencoder_and_anomaly_threshold():
    tf.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_images(300, 200)
    x_train, x_test = x_train[..., tf.newaxis], x_test[..., tf.newaxis]
    noise_factor = 0.2
    x_train_noisy = x_train + noise_factor * tf.random.normal(shape=x_train.shape)
    x_test_noisy = x_test + noise_factor * tf.random.normal(shape=x_test.shape)
    x_train_noisy = tf.clip_by_value(x_train_noisy, clip_value_min=0., clip_value_max=1.)
    x_test_noisy = tf.clip_by_value(x_test_noisy, clip_value_min=0., clip_value_max=1.)
    assert float(tf.reduce_min(x_train_noisy)) >= 0.0 and float(tf.reduce_max(x_train_noisy)) <= 1.0

    autoencoder = Denoise()
    autoencoder.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss=losses.BinaryCrossentropy())
    history = autoencoder.fit(x_train_noisy, x_train, epochs=5, batch_size=16, shuffle=True,
                              validation_data=(x_test_noisy, x_test), verbose=0)
    assert autoencoder.encoder.output_shape == (None, 7, 7, 8)
    encoded_imgs = autoencoder.encoder(x_test_noisy).numpy()
    decoded_imgs = autoencoder.decoder(encoded_imgs).numpy()
    assert decoded_imgs.shape == (200, 28, 28, 1)
    # The output approaches the clean digits: better than the best constant image (the per-pixel mean).
    val_loss = history.history["val_loss"]
    assert val_loss[-1] < val_loss[0]
    mse = np.mean((decoded_imgs - x_test) ** 2)
    baseline = np.mean((x_test - x_train.mean(axis=0)) ** 2)
    assert mse < 0.8 * baseline, (mse, baseline)

    # Anomaly detection: a threshold one standard deviation above the training reconstruction error.
    reconstructions = autoencoder.predict(x_train, verbose=0)
    train_loss = tf.keras.losses.mae(reconstructions.reshape(len(x_train), -1), x_train.reshape(len(x_train), -1))
    assert train_loss.shape == (300,)
    np.testing.assert_allclose(train_loss.numpy(), np.mean(np.abs(reconstructions - x_train), axis=(1, 2, 3)),
                               rtol=1e-5)
    threshold = np.mean(train_loss) + np.std(train_loss)
    # Images that are not digits (uniform noise) reconstruct badly: flagged as anomalies.
    anomalies = np.random.default_rng(0).random((20, 28, 28, 1)).astype("float32")
    anomaly_loss = tf.keras.losses.mae(autoencoder.predict(anomalies, verbose=0).reshape(20, -1),
                                       anomalies.reshape(20, -1))
    normal = tf.math.less(anomaly_loss, threshold)
    assert normal.dtype == tf.bool and not np.any(normal.numpy())
    train_normal = tf.math.less(train_loss, threshold).numpy()
    assert 0.7 < train_normal.mean() < 0.95
