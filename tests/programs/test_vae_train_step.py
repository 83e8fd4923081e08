"""keras.io "Variational AutoEncoder" (convolutional VAE on MNIST digits with a custom `train_step`).

A `Sampling` layer (reparameterization with `tf.shape` and `tf.random.normal`), a convolutional functional
encoder with three outputs and a `Conv2DTranspose` decoder, a `keras.Model` subclass holding `Mean` trackers listed
in `metrics` and overriding `train_step` with `tf.GradientTape`: the reconstruction term
`reduce_mean(reduce_sum(binary_crossentropy(data, reconstruction), axis=(1, 2)))` plus the KL term. Then the
latent space: `encoder.predict` means and `decoder.predict` of a grid of codes.
"""

import numpy as np
from program_data import mnist_sample

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = tf.shape(z_mean)[0]
        dim = tf.shape(z_mean)[1]
        epsilon = tf.random.normal(shape=(batch, dim))
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


LATENT_DIM = 2


def build_encoder():
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(16, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(LATENT_DIM, name="z_mean")(x)
    z_log_var = layers.Dense(LATENT_DIM, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    return keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")


def build_decoder():
    latent_inputs = keras.Input(shape=(LATENT_DIM,))
    x = layers.Dense(7 * 7 * 16, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 16))(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(latent_inputs, decoder_outputs, name="decoder")


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = tf.reduce_mean(
                tf.reduce_sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2)))
            kl_loss = -0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var))
            kl_loss = tf.reduce_mean(tf.reduce_sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


def test_vae_with_custom_train_step():
    tf.keras.utils.set_random_seed(0)
    (x_train, _), (x_test, _) = mnist_sample(800, 200)
    mnist_digits = np.concatenate([x_train, x_test], axis=0)
    mnist_digits = np.expand_dims(mnist_digits, -1).astype("float32") / 255
    assert mnist_digits.shape == (1000, 28, 28, 1)

    encoder = build_encoder()
    decoder = build_decoder()
    assert [tuple(o.shape) for o in encoder.outputs] == [(None, 2), (None, 2), (None, 2)]
    assert decoder.output_shape == (None, 28, 28, 1)

    # The reconstruction term as written: binary_crossentropy averages the last axis (1 channel), the sum runs
    # over the image, the mean over the batch.
    probe = mnist_digits[:4]
    reconstruction = np.clip(decoder(encoder(probe)[2]).numpy(), 1e-7, 1 - 1e-7)
    expected = np.mean(np.sum(-(probe * np.log(reconstruction) + (1 - probe) * np.log(1 - reconstruction)),
                              axis=(1, 2, 3)))
    computed = tf.reduce_mean(tf.reduce_sum(keras.losses.binary_crossentropy(probe, reconstruction), axis=(1, 2)))
    np.testing.assert_allclose(float(computed), expected, rtol=1e-4)

    vae = VAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3))
    history = vae.fit(mnist_digits, epochs=4, batch_size=64, verbose=0)
    h = history.history
    assert sorted(h) == ["kl_loss", "loss", "reconstruction_loss"]
    # Epoch means of a sum are sums of epoch means (same batches).
    np.testing.assert_allclose(h["loss"], np.add(h["reconstruction_loss"], h["kl_loss"]), rtol=1e-4)
    assert all(kl >= 0 for kl in h["kl_loss"])
    # Predicting an all-0.5 image costs 784 * log(2) = 543 nats; a trained VAE reconstructs far better.
    assert h["reconstruction_loss"][-1] < 0.6 * 784 * np.log(2), h["reconstruction_loss"]
    assert h["loss"][-1] < h["loss"][0]

    # The latent space: encoder.predict gives (z_mean, z_log_var, z), z drawn around z_mean with standard deviation
    # exp(z_log_var / 2): checked on 2,000 draws for one digit.
    z_mean, z_log_var, z = vae.encoder.predict(np.repeat(mnist_digits[:1], 2000, axis=0), verbose=0)
    assert z_mean.shape == z_log_var.shape == z.shape == (2000, 2)
    np.testing.assert_allclose(z_mean, np.broadcast_to(z_mean[0], z_mean.shape), rtol=1e-5, atol=1e-6)
    sigma = np.exp(0.5 * z_log_var[0])
    np.testing.assert_allclose(z.std(axis=0), sigma, rtol=0.1)
    assert np.all(np.abs(z.mean(axis=0) - z_mean[0]) < 0.1 * sigma)
    grid = np.array([[xi, yi] for xi in np.linspace(-1, 1, 3) for yi in np.linspace(-1, 1, 3)], "float32")
    x_decoded = vae.decoder.predict(grid, verbose=0)
    assert x_decoded.shape == (9, 28, 28, 1) and 0 <= x_decoded.min() and x_decoded.max() <= 1
    digit = x_decoded[0].reshape(28, 28)
    assert digit.std() > 0.05  # a drawn image, not a flat one
