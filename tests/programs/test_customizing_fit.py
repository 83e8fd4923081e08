"""keras.io / tensorflow.org "Customizing what happens in fit()" guide.

A Model subclass overriding `train_step` with `self.compiled_loss` / `self.compiled_metrics` (and the newer
`self.compute_loss` / `self.compute_metrics`), then a lower-level version with its own `Mean` loss tracker and
`MeanAbsoluteError` listed in the `metrics` property (so they are reset each epoch), sample weights unpacked
from `data`, a custom `test_step`, and a small GAN whose `train_step` trains a discriminator and a generator with
two optimizers given to an overridden `compile`.
"""

import numpy as np

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers


class CustomModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class ComputeLossModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_variables), self.trainable_variables))
        return self.compute_metrics(x, y, y_pred, None)


loss_tracker = keras.metrics.Mean(name="loss")
mae_metric = keras.metrics.MeanAbsoluteError(name="mae")


class LowLevelModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = keras.losses.mean_squared_error(y, y_pred)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        loss_tracker.update_state(loss)
        mae_metric.update_state(y, y_pred)
        return {"loss": loss_tracker.result(), "mae": mae_metric.result()}

    @property
    def metrics(self):
        return [loss_tracker, mae_metric]


class WeightedModel(keras.Model):
    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, sample_weight=sample_weight, regularization_losses=self.losses)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def regression_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 32)).astype("float32")
    y = (x[:, :4].sum(axis=1, keepdims=True) - 2).astype("float32")
    return x, y


def make(model_class):
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    return model_class(inputs, outputs)


def test_train_step_with_compiled_loss_and_metrics():
    tf.keras.utils.set_random_seed(0)
    x, y = regression_data()
    for model_class in [CustomModel, ComputeLossModel]:
        model = make(model_class)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
        history = model.fit(x, y, epochs=5, verbose=0)
        assert set(history.history) == {"loss", "mae"}, model_class
        losses = history.history["loss"]
        assert losses[-1] < 0.7 * losses[0], (model_class, losses)
        # The logged values are running means over each epoch, the same quantities evaluate reports.
        final = model.evaluate(x, y, verbose=0, return_dict=True)
        assert abs(final["loss"] - losses[-1]) < 0.5 * losses[-1]
        predictions = model.predict(x, verbose=0)
        np.testing.assert_allclose(final["mae"], np.mean(np.abs(predictions - y)), rtol=1e-4)


def test_low_level_train_step_and_metrics_reset():
    tf.keras.utils.set_random_seed(0)
    x, y = regression_data()
    model = make(LowLevelModel)
    model.compile(optimizer="adam")  # no loss: the step computes it
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append((float(loss_tracker.result()), float(mae_metric.result())))

    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[Record()])
    assert sorted(history.history) == ["loss", "mae"]
    # The metrics property lists the trackers, so fit resets them before every epoch begins.
    assert seen == [(0.0, 0.0)] * 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.metrics == [loss_tracker, mae_metric]
    mae_metric.reset_state()
    mae_metric.update_state(y, model.predict(x, verbose=0))
    np.testing.assert_allclose(float(mae_metric.result()), np.mean(np.abs(model.predict(x, verbose=0) - y)),
                               rtol=1e-5)


def test_sample_weight_and_custom_test_step():
    tf.keras.utils.set_random_seed(0)
    x, y = regression_data()
    sw = np.random.default_rng(1).random((len(y), 1)).astype("float32")
    model = make(WeightedModel)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(x, y, sample_weight=sw, epochs=3, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    results = model.evaluate(x, y, verbose=0)
    predictions = model.predict(x, verbose=0)
    np.testing.assert_allclose(results[0], np.mean((predictions - y) ** 2), rtol=1e-4)
    np.testing.assert_allclose(results[1], np.mean(np.abs(predictions - y)), rtol=1e-4)


class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        batch_size = tf.shape(real_images)[0]
        random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
        generated_images = self.generator(random_latent_vectors)
        combined_images = tf.concat([generated_images, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * tf.random.uniform(tf.shape(labels))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
        misleading_labels = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def test_gan_train_step():
    tf.keras.utils.set_random_seed(0)
    latent_dim = 4
    discriminator = keras.Sequential([
        keras.Input(shape=(8,)),
        layers.Dense(16),
        layers.LeakyReLU(alpha=0.2),
        layers.Dense(1),
    ], name="discriminator")
    generator = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        layers.Dense(16),
        layers.LeakyReLU(alpha=0.2),
        layers.Dense(8, activation="tanh"),
    ], name="generator")
    # "Real" samples: vectors near a fixed pattern.
    rng = np.random.default_rng(0)
    pattern = np.tanh(rng.normal(size=(1, 8))).astype("float32")
    real = (pattern + 0.05 * rng.normal(size=(256, 8))).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(real).shuffle(256).batch(32)

    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=0.003),
                g_optimizer=keras.optimizers.Adam(learning_rate=0.003),
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    before = np.mean(np.abs(generator.predict(rng.normal(size=(64, latent_dim)), verbose=0) - pattern))
    d_before = [w.numpy().copy() for w in discriminator.weights]
    history = gan.fit(dataset, epochs=8, verbose=0)
    assert sorted(history.history) == ["d_loss", "g_loss"] and len(history.history["d_loss"]) == 8
    assert all(np.isfinite(history.history["d_loss"])) and all(np.isfinite(history.history["g_loss"]))
    assert int(gan.d_optimizer.iterations.numpy()) == int(gan.g_optimizer.iterations.numpy()) == 64
    assert not np.array_equal(d_before[0], discriminator.weights[0].numpy())
    # The generator moved its samples towards the real data.
    after = np.mean(np.abs(generator.predict(rng.normal(size=(64, latent_dim)), verbose=0) - pattern))
    assert after < before, (before, after)
