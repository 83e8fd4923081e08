"""keras.io / tensorflow.org "Writing a training loop from scratch" guide.

A functional MLP on digits trained by hand: `tf.data` batches, `tf.GradientTape`, `optimizer.apply_gradients`,
a `SparseCategoricalAccuracy` metric updated per batch, read and `reset_state` per epoch, a validation loop, the
step functions wrapped in `tf.function`, and `add_loss` penalties from a layer summed into the loss by hand.
"""

import numpy as np
from program_data import mnist_sample

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers


def get_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x1 = layers.Dense(64, activation="relu")(inputs)
    x2 = layers.Dense(64, activation="relu")(x1)
    outputs = layers.Dense(10, name="predictions")(x2)
    return keras.Model(inputs=inputs, outputs=outputs)


def load_datasets(batch_size=64):
    (x_train, y_train), (x_test, y_test) = mnist_sample(1600, 400)
    x_train = np.reshape(x_train, (-1, 784)).astype("float32") / 255
    x_test = np.reshape(x_test, (-1, 784)).astype("float32") / 255
    x_val, y_val = x_train[-400:], y_train[-400:]
    x_train, y_train = x_train[:-400], y_train[:-400]
    train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train))
    train_dataset = train_dataset.shuffle(buffer_size=1024).batch(batch_size)
    val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(batch_size)
    return train_dataset, val_dataset, (x_val, y_val)


def test_eager_training_loop():
    tf.keras.utils.set_random_seed(0)
    model = get_model()
    optimizer = keras.optimizers.SGD(learning_rate=1e-1)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    train_dataset, val_dataset, (x_val, y_val) = load_datasets()

    epoch_losses, train_accs, val_accs = [], [], []
    for _epoch in range(3):
        batch_losses = []
        for x_batch_train, y_batch_train in train_dataset:
            with tf.GradientTape() as tape:
                logits = model(x_batch_train, training=True)
                loss_value = loss_fn(y_batch_train, logits)
            grads = tape.gradient(loss_value, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            train_acc_metric.update_state(y_batch_train, logits)
            batch_losses.append(float(loss_value))
        assert len(batch_losses) == 19  # 1,200 images in batches of 64
        epoch_losses.append(np.mean(batch_losses))
        train_accs.append(float(train_acc_metric.result()))
        train_acc_metric.reset_state()
        for x_batch_val, y_batch_val in val_dataset:
            val_logits = model(x_batch_val, training=False)
            val_acc_metric.update_state(y_batch_val, val_logits)
        val_accs.append(float(val_acc_metric.result()))
        val_acc_metric.reset_state()

    assert int(optimizer.iterations.numpy()) == 3 * 19
    assert epoch_losses[-1] < epoch_losses[0]
    # The metric, reset every epoch, reports that epoch's validation accuracy alone.
    expected = np.mean(np.argmax(model.predict(x_val, verbose=0), axis=1) == y_val)
    np.testing.assert_allclose(val_accs[-1], expected, rtol=1e-6)
    assert val_accs[-1] > 0.75, val_accs


def test_tf_function_steps_and_add_loss():
    tf.keras.utils.set_random_seed(0)
    model = get_model()
    optimizer = keras.optimizers.Adam(learning_rate=3e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    val_acc_metric = keras.metrics.SparseCategoricalAccuracy()
    train_dataset, val_dataset, _ = load_datasets()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        train_acc_metric.update_state(y, logits)
        return loss_value

    @tf.function
    def test_step(x, y):
        val_logits = model(x, training=False)
        val_acc_metric.update_state(y, val_logits)

    for _ in range(2):
        for x_batch_train, y_batch_train in train_dataset:
            loss_value = train_step(x_batch_train, y_batch_train)
        train_acc = train_acc_metric.result()
        train_acc_metric.reset_state()
        for x_batch_val, y_batch_val in val_dataset:
            test_step(x_batch_val, y_batch_val)
        val_acc = val_acc_metric.result()
        val_acc_metric.reset_state()
    assert float(train_acc) > 0.75 and float(val_acc) > 0.75, (float(train_acc), float(val_acc))
    assert np.isfinite(float(loss_value))

    # A layer that adds an activity penalty with add_loss; the loop adds sum(model.losses).
    class ActivityRegularizationLayer(layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * tf.reduce_sum(inputs))
            return inputs

    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    optimizer = keras.optimizers.Adam(learning_rate=3e-3)  # an optimizer is built for one set of variables

    x_batch, y_batch = next(iter(train_dataset))
    logits = model(x_batch, training=True)
    assert len(model.losses) == 1
    hidden = keras.Model(inputs, model.layers[1].output)(x_batch).numpy()
    np.testing.assert_allclose(float(model.losses[0]), 1e-2 * hidden.sum(), rtol=1e-4)

    @tf.function
    def regularized_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss_value = loss_fn(y, logits)
            loss_value += sum(model.losses)
        grads = tape.gradient(loss_value, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        return loss_value

    first_kernel = model.layers[1].kernel.numpy().copy()
    total = float(regularized_step(x_batch, y_batch))
    assert total > float(loss_fn(y_batch, logits))
    assert not np.array_equal(first_kernel, model.layers[1].kernel.numpy())
