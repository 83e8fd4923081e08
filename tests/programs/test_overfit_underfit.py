"""tensorflow.org "Overfit and underfit": tiny/small/large models, L2 weight regularization, dropout, combined.

The tutorial's machinery on a small noisy binary problem fed through `tf.data`: an `InverseTimeDecay` learning-rate
schedule driving Adam, `BinaryCrossentropy(from_logits=True)` as both loss and a named metric, `EarlyStopping` on
`val_binary_crossentropy`, `regularizers.l2` whose penalties show up in `model.losses`, and `Dropout`.
"""

import numpy as np

import featherflow as tf
from featherflow.keras import layers, regularizers

N_TRAIN = 600
BATCH_SIZE = 100
STEPS_PER_EPOCH = N_TRAIN // BATCH_SIZE
FEATURES = 20


def make_data(seed=0):
    # The label depends on two of the 20 features; the other 18 are noise a large model can memorise.
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N_TRAIN + 400, FEATURES)).astype("float32")
    logits = 2.0 * x[:, 0] - 1.5 * x[:, 1] * x[:, 0] + x[:, 1]
    y = (logits + rng.normal(0, 1.0, len(x)) > 0).astype("float32")
    return (x[:N_TRAIN], y[:N_TRAIN]), (x[N_TRAIN:], y[N_TRAIN:])


lr_schedule = tf.keras.optimizers.schedules.InverseTimeDecay(
    0.005, decay_steps=STEPS_PER_EPOCH * 10, decay_rate=1, staircase=False)


def get_optimizer():
    return tf.keras.optimizers.Adam(lr_schedule)


def get_callbacks():
    return [tf.keras.callbacks.EarlyStopping(monitor="val_binary_crossentropy", patience=8)]


def compile_and_fit(model, train_ds, validate_ds, max_epochs=40):
    model.compile(optimizer=get_optimizer(),
                  loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=[tf.keras.metrics.BinaryCrossentropy(from_logits=True, name="binary_crossentropy"),
                           "accuracy"])
    return model.fit(train_ds, steps_per_epoch=STEPS_PER_EPOCH, epochs=max_epochs, validation_data=validate_ds,
                     callbacks=get_callbacks(), verbose=0)


def test_schedule_values():
    # InverseTimeDecay: lr / (1 + decay_rate * step / decay_steps).
    for step in [0, STEPS_PER_EPOCH * 10, STEPS_PER_EPOCH * 30]:
        expected = 0.005 / (1 + step / (STEPS_PER_EPOCH * 10))
        np.testing.assert_allclose(float(lr_schedule(step)), expected, rtol=1e-6)


def test_overfit_and_regularize():
    tf.keras.utils.set_random_seed(0)
    (x_train, y_train), (x_val, y_val) = make_data()
    train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(N_TRAIN).repeat().batch(BATCH_SIZE)
    validate_ds = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(BATCH_SIZE)
    assert train_ds.element_spec[0].shape.as_list() == [None, FEATURES]

    size_histories = {}
    tiny_model = tf.keras.Sequential([
        layers.Dense(8, activation="elu", input_shape=(FEATURES,)),
        layers.Dense(1),
    ])
    size_histories["Tiny"] = compile_and_fit(tiny_model, train_ds, validate_ds)

    large_model = tf.keras.Sequential([
        layers.Dense(256, activation="elu", input_shape=(FEATURES,)),
        layers.Dense(256, activation="elu"),
        layers.Dense(256, activation="elu"),
        layers.Dense(1),
    ])
    size_histories["large"] = compile_and_fit(large_model, train_ds, validate_ds)

    for name, history in size_histories.items():
        h = history.history
        assert set(h) == {"loss", "binary_crossentropy", "accuracy", "val_loss", "val_binary_crossentropy",
                          "val_accuracy"}, name
        # Without regularization the loss is the metric (same data, same formula).
        np.testing.assert_allclose(h["loss"], h["binary_crossentropy"], rtol=1e-5)
        assert h["val_accuracy"][-1] > 0.7, (name, h["val_accuracy"][-1])

    # The large model memorises: its training loss falls far below its validation loss, so early stopping ends
    # it before max_epochs, with the best validation loss `patience` epochs before the end.
    large = size_histories["large"].history
    assert large["binary_crossentropy"][-1] < 0.5 * large["val_binary_crossentropy"][-1]
    assert len(large["loss"]) < 40
    assert int(np.argmin(large["val_binary_crossentropy"])) == len(large["loss"]) - 9

    # L2 + dropout: the penalties are in model.losses and in the training loss, not in the metric.
    combined_model = tf.keras.Sequential([
        layers.Dense(256, kernel_regularizer=regularizers.l2(0.0001), activation="elu", input_shape=(FEATURES,)),
        layers.Dropout(0.5),
        layers.Dense(256, kernel_regularizer=regularizers.l2(0.0001), activation="elu"),
        layers.Dropout(0.5),
        layers.Dense(1),
    ])
    combined = compile_and_fit(combined_model, train_ds, validate_ds).history
    assert len(combined_model.losses) == 2
    penalty = sum(0.0001 * float(np.sum(w.numpy() ** 2)) for w in
                  (combined_model.layers[0].kernel, combined_model.layers[2].kernel))
    np.testing.assert_allclose(float(tf.add_n(combined_model.losses)), penalty, rtol=1e-4)
    assert combined["loss"][-1] > combined["binary_crossentropy"][-1]
    # Regularized, the gap between training and validation loss is much smaller than the large model's.
    gap = combined["val_binary_crossentropy"][-1] - combined["binary_crossentropy"][-1]
    large_gap = large["val_binary_crossentropy"][-1] - large["binary_crossentropy"][-1]
    assert gap < 0.5 * large_gap, (gap, large_gap)
    assert combined["val_accuracy"][-1] > 0.75
