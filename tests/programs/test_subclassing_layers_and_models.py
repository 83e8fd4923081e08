"""keras.io / tensorflow.org "Making new layers and models via subclassing" guide.

A `Linear` layer with weights made by `add_weight` in `__init__`, then lazily in `build`; a non-trainable weight
(`ComputeSum`); layers nested as attributes (`MLPBlock`) whose weights are tracked; `add_loss` in `call` (activity
regularization) and the regularizer losses of inner layers in `.losses`, reset on each call; a `get_config` /
`from_config` round trip; a `training` argument (a custom dropout); a Model subclass trained with fit; the
guide's end-to-end VAE built from subclassed `Encoder`/`Decoder` layers with a `Sampling` layer and a KL
`add_loss`.
"""

import numpy as np

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers


class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b


class LazyLinear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


class ComputeSum(keras.layers.Layer):
    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(tf.reduce_sum(inputs, axis=0))
        return self.total


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LazyLinear(32)
        self.linear_2 = LazyLinear(32)
        self.linear_3 = LazyLinear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = tf.nn.relu(x)
        x = self.linear_2(x)
        x = tf.nn.relu(x)
        return self.linear_3(x)


class ActivityRegularizationLayer(keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * tf.reduce_sum(inputs))
        return inputs


class OuterLayer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


class OuterLayerWithKernelRegularizer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(32, kernel_regularizer=tf.keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(inputs)


class CustomDropout(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs, training=None):
        if training:
            return tf.nn.dropout(inputs, rate=self.rate)
        return inputs


def test_layers_with_weights():
    tf.keras.utils.set_random_seed(0)
    x = tf.ones((2, 2))
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    np.testing.assert_allclose(y.numpy(), np.ones((2, 2)) @ linear_layer.w.numpy() + linear_layer.b.numpy(),
                               rtol=1e-6)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]

    x = tf.ones((2, 2))
    my_sum = ComputeSum(2)
    y = my_sum(x)
    np.testing.assert_array_equal(y.numpy(), [2.0, 2.0])
    y = my_sum(x)
    np.testing.assert_array_equal(y.numpy(), [4.0, 4.0])
    assert len(my_sum.weights) == 1 and len(my_sum.non_trainable_weights) == 1 and not my_sum.trainable_weights

    linear_layer = LazyLinear(32)
    assert not linear_layer.built and linear_layer.weights == []
    y = linear_layer(x)
    assert linear_layer.built and y.shape == (2, 32) and linear_layer.w.shape == (2, 32)

    mlp = MLPBlock()
    y = mlp(tf.ones(shape=(3, 64)))
    assert y.shape == (3, 1)
    assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6


def test_add_loss_and_losses_property():
    layer = OuterLayer()
    assert len(layer.losses) == 0
    _ = layer(tf.zeros((1, 1)))
    assert len(layer.losses) == 1
    _ = layer(tf.ones((3, 2)))
    assert len(layer.losses) == 1  # the losses of the last call only
    np.testing.assert_allclose(float(layer.losses[0]), 1e-2 * 6, rtol=1e-6)

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(tf.zeros((1, 1)))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 1e-3 * np.sum(layer.dense.kernel.numpy() ** 2), rtol=1e-5)

    # The losses are part of what fit minimises.
    tf.keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).random((2, 3)).astype("float32")
    y = np.random.default_rng(1).random((2, 3)).astype("float32")
    loss = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(loss, np.mean((x - y) ** 2) + 1e-2 * x.sum(), rtol=1e-5)
    model.compile(optimizer="adam")  # only the add_loss penalty
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), 1e-2 * x.sum(), rtol=1e-5)


def test_config_round_trip_and_training_argument():
    layer = LazyLinear(64)
    config = layer.get_config()
    assert config["units"] == 64 and config["name"] == layer.name and config["trainable"] is True
    new_layer = LazyLinear.from_config(config)
    assert new_layer.units == 64 and new_layer.name == layer.name

    tf.keras.utils.set_random_seed(0)
    dropout = CustomDropout(0.5)
    x = tf.ones((200, 10))
    np.testing.assert_array_equal(dropout(x, training=False).numpy(), x.numpy())
    dropped = dropout(x, training=True).numpy()
    assert set(np.unique(dropped)) <= {0.0, 2.0}
    assert 0.35 < np.mean(dropped == 0) < 0.65

    # In a model, fit passes training=True and predict training=False.
    seen = []

    class Spy(keras.layers.Layer):
        def call(self, inputs, training=None):
            seen.append(training)
            return inputs

    model = keras.Sequential([keras.Input((10,)), Spy(), CustomDropout(0.5), layers.Dense(1)])
    model.compile("sgd", "mse")
    seen.clear()
    model.fit(np.ones((4, 10)), np.ones((4, 1)), verbose=0)
    assert seen and all(flag is True for flag in seen)
    seen.clear()
    model.predict(np.ones((4, 10)), verbose=0)
    assert seen and all(flag is False for flag in seen)


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = tf.shape(z_mean)[0]
        dim = tf.shape(z_mean)[1]
        epsilon = tf.keras.backend.random_normal(shape=(batch, dim))
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        z = self.sampling((z_mean, z_log_var))
        return z_mean, z_log_var, z


class Decoder(layers.Layer):
    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        return self.dense_output(self.dense_proj(inputs))


class VariationalAutoEncoder(keras.Model):
    def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        kl_loss = -0.5 * tf.reduce_mean(z_log_var - tf.square(z_mean) - tf.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


def test_end_to_end_vae():
    tf.keras.utils.set_random_seed(0)
    original_dim = 64
    rng = np.random.default_rng(0)
    # Images made of 4 prototypes with noise: a VAE can reconstruct them well from a small code.
    prototypes = rng.random((4, original_dim))
    x_train = np.clip(prototypes[rng.integers(0, 4, 512)] + 0.05 * rng.normal(size=(512, original_dim)), 0, 1)
    x_train = x_train.astype("float32")

    vae = VariationalAutoEncoder(original_dim, 32, 4)
    optimizer = tf.keras.optimizers.Adam(learning_rate=3e-3)
    mse_loss_fn = tf.keras.losses.MeanSquaredError()
    loss_metric = tf.keras.metrics.Mean()
    train_dataset = tf.data.Dataset.from_tensor_slices(x_train).shuffle(buffer_size=512).batch(64)
    epoch_losses = []
    for _ in range(3):
        for x_batch_train in train_dataset:
            with tf.GradientTape() as tape:
                reconstructed = vae(x_batch_train)
                loss = mse_loss_fn(x_batch_train, reconstructed)
                loss += sum(vae.losses)
            grads = tape.gradient(loss, vae.trainable_weights)
            optimizer.apply_gradients(zip(grads, vae.trainable_weights))
            loss_metric(loss)
        epoch_losses.append(float(loss_metric.result()))
        loss_metric.reset_state()
    assert len(vae.losses) == 1 and len(vae.trainable_weights) == 10
    assert epoch_losses[-1] < epoch_losses[0]

    # The same model trained with fit: the KL term is added to the compiled MSE.
    vae = VariationalAutoEncoder(original_dim, 32, 4)
    vae.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=3e-3), loss=tf.keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=6, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0], losses
    reconstructed = vae.predict(x_train[:8], verbose=0)
    assert reconstructed.shape == (8, original_dim) and reconstructed.min() >= 0 and reconstructed.max() <= 1
