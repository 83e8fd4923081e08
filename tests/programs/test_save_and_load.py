"""tensorflow.org "Save and load models" (without SavedModel): checkpoints during training, manual weights,
whole models in the `.keras` and HDF5 formats.

`ModelCheckpoint(save_weights_only=True)` writing TF checkpoints (`cp.ckpt`, then `cp-{epoch:04d}.ckpt` every few
batches with `save_freq`), `tf.train.latest_checkpoint`, `load_weights` into a fresh untrained model, `save_weights`,
`model.save("my_model.keras")` / `model.save("my_model.h5")` and `load_model`, all on digits from the bundled MNIST
sample.
"""

import os

import numpy as np
from program_data import mnist_sample

import featherflow as tf


def create_model():
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(64, activation="relu", input_shape=(784,)),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10),
    ])
    model.compile(optimizer="adam",
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
    return model


def load_digits():
    (train_images, train_labels), (test_images, test_labels) = mnist_sample(1000, 500)
    train_images = train_images[:1000].reshape(-1, 28 * 28) / 255.0
    test_images = test_images[:500].reshape(-1, 28 * 28) / 255.0
    return (train_images, train_labels), (test_images, test_labels)


def test_checkpoints_during_training(tmp_path):
    tf.keras.utils.set_random_seed(0)
    os.chdir(tmp_path)
    (train_images, train_labels), (test_images, test_labels) = load_digits()

    checkpoint_path = "training_1/cp.ckpt"
    checkpoint_dir = os.path.dirname(checkpoint_path)
    cp_callback = tf.keras.callbacks.ModelCheckpoint(filepath=checkpoint_path, save_weights_only=True, verbose=0)
    model = create_model()
    model.fit(train_images, train_labels, epochs=4, validation_data=(test_images, test_labels),
              callbacks=[cp_callback], verbose=0)
    # The directory's `checkpoint` state file names the weights just written (its on-disk layout is the
    # framework's own: TensorFlow writes cp.ckpt.index and cp.ckpt.data-*, featherflow one cp.ckpt file).
    assert "checkpoint" in os.listdir(checkpoint_dir)
    assert os.path.normpath(tf.train.latest_checkpoint(checkpoint_dir)) == os.path.normpath(checkpoint_path)
    _, trained_acc = model.evaluate(test_images, test_labels, verbose=0)
    assert trained_acc > 0.8, trained_acc  # 10 classes of real digits, 1,000 training images

    untrained = create_model()
    _, untrained_acc = untrained.evaluate(test_images, test_labels, verbose=0)
    assert untrained_acc < 0.3
    untrained.load_weights(checkpoint_path)
    _, restored_acc = untrained.evaluate(test_images, test_labels, verbose=0)
    assert restored_acc == trained_acc
    np.testing.assert_array_equal(untrained.predict(test_images, verbose=0), model.predict(test_images, verbose=0))

    # Unique names per epoch, saved every 2 epochs' worth of batches; the latest checkpoint is the last epoch's.
    checkpoint_path = "training_2/cp-{epoch:04d}.ckpt"
    checkpoint_dir = os.path.dirname(checkpoint_path)
    batch_size = 100
    n_batches = len(train_images) // batch_size
    cp_callback = tf.keras.callbacks.ModelCheckpoint(filepath=checkpoint_path, verbose=0, save_weights_only=True,
                                                     save_freq=2 * n_batches)
    model = create_model()
    model.save_weights(checkpoint_path.format(epoch=0))
    model.fit(train_images, train_labels, epochs=6, batch_size=batch_size, callbacks=[cp_callback], verbose=0)
    saved = sorted({name.split(".")[0] for name in os.listdir(checkpoint_dir) if name.startswith("cp-")})
    assert saved == ["cp-0000", "cp-0002", "cp-0004", "cp-0006"]
    latest = tf.train.latest_checkpoint(checkpoint_dir)
    assert os.path.normpath(latest) == os.path.normpath(os.path.join(checkpoint_dir, "cp-0006.ckpt"))
    fresh = create_model()
    fresh.load_weights(latest)
    for restored, trained in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(restored, trained)

    # Manual checkpoints.
    model.save_weights("./checkpoints/my_checkpoint")
    other = create_model()
    other.load_weights("./checkpoints/my_checkpoint")
    np.testing.assert_array_equal(other.predict(test_images[:20], verbose=0), model.predict(test_images[:20],
                                                                                             verbose=0))


def test_save_whole_model(tmp_path):
    tf.keras.utils.set_random_seed(0)
    (train_images, train_labels), (test_images, test_labels) = load_digits()
    model = create_model()
    model.fit(train_images, train_labels, epochs=3, verbose=0)
    expected = model.predict(test_images, verbose=0)
    _, acc = model.evaluate(test_images, test_labels, verbose=0)

    for filename in ["my_model.keras", "my_model.h5"]:
        path = str(tmp_path / filename)
        model.save(path)
        new_model = tf.keras.models.load_model(path)
        assert [type(layer).__name__ for layer in new_model.layers] == ["Dense", "Dropout", "Dense"]
        assert new_model.count_params() == 784 * 64 + 64 + 64 * 10 + 10
        np.testing.assert_allclose(new_model.predict(test_images, verbose=0), expected, rtol=1e-6, atol=1e-6)
        _, new_acc = new_model.evaluate(test_images, test_labels, verbose=0)
        assert abs(new_acc - acc) < 1e-6, filename
        # The optimizer and its state come back: training continues from the same point in both models.
        assert new_model.optimizer.iterations.numpy() == model.optimizer.iterations.numpy()
        for new_slot, slot in zip(new_model.optimizer.variables(), model.optimizer.variables()):
            np.testing.assert_allclose(new_slot.numpy(), slot.numpy(), rtol=1e-6, atol=1e-7)
