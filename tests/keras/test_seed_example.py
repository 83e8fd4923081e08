"""The course's MNIST example runs unchanged (except the import) and learns: issue 3's "done when"."""

import os
import runpy
import warnings

import numpy as np
import pytest

import featherflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "seed_example.py")
SHARED_SUMMARY = os.path.join(os.path.dirname(ROOT), "shared", "seed_summary.txt")

# tf.keras 2.12's summary of the seed model (../shared/seed_summary.txt), trailing spaces stripped.
EXPECTED_SUMMARY = """\
Model: "sequential"
_________________________________________________________________
 Layer (type)                Output Shape              Param #
=================================================================
 flatten (Flatten)           (None, 784)               0

 dense (Dense)               (None, 128)               100480

 dropout (Dropout)           (None, 128)               0

 dense_1 (Dense)             (None, 10)                1290

=================================================================
Total params: 101,770
Trainable params: 101,770
Non-trainable params: 0
_________________________________________________________________"""


def seed_model():
    return tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation='relu'),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10, activation='softmax')
    ])


def summary_of(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def test_seed_summary_matches_tf_keras_line_for_line():
    tf.keras.backend.clear_session()
    lines = summary_of(seed_model())
    assert [line.rstrip() for line in lines] == EXPECTED_SUMMARY.splitlines()
    # Trailing spaces included, every line is exactly as wide as tf.keras prints it.
    assert all(len(line) == 65 for line in lines[1:4] + lines[4:13])
    if os.path.exists(SHARED_SUMMARY):
        with open(SHARED_SUMMARY, encoding="utf-8") as f:
            assert [line.rstrip() for line in lines] == [line.rstrip() for line in f.read().splitlines()]


def test_seed_first_hidden_layer_weights_before_training():
    tf.keras.backend.clear_session()
    model = seed_model()
    hidden1 = model.layers[1]
    assert hidden1.name == "dense"
    weights, biases = hidden1.get_weights()
    assert weights.shape == (784, 128) and weights.dtype == np.float32
    assert biases.shape == (128,) and biases.dtype == np.float32 and not biases.any()
    # Glorot uniform: limit sqrt(6 / (fan_in + fan_out)); the sample fills the range.
    limit = np.sqrt(6.0 / (784 + 128))
    assert np.abs(weights).max() <= limit and np.abs(weights).max() > 0.95 * limit
    assert abs(float(weights.mean())) < 0.01 * limit * 10
    assert [type(layer).__name__ for layer in model.layers] == ["Flatten", "Dense", "Dropout", "Dense"]


def test_seed_example_script_trains_to_90_percent(capsys):
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        g = runpy.run_path(EXAMPLE, run_name="__main__")
    out = capsys.readouterr().out
    model = g["model"]
    loss, accuracy = model.evaluate(g["x_test"], g["y_test"], verbose=0)
    assert g["x_train"].shape == (4000, 28, 28) and g["x_test"].shape == (1000, 28, 28)
    assert accuracy >= 0.90, out
    # The epoch lines tf.keras prints: "Epoch 1/5" and the finished bar with both metrics.
    assert "Epoch 1/5" in out and "Epoch 5/5" in out
    assert "125/125 [==============================]" in out and "accuracy:" in out
    # The lecture's follow-ups: the summary (after training it is unchanged), the predicted class.
    assert "Total params: 101,770" in out
    probs = g["y_prob"]
    assert probs.shape == (1, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-5)
    assert int(g["y_pred"][0]) == int(np.argmax(probs))
    # The independent check of the reported metric: accuracy from predictions.
    predictions = model.predict(g["x_test"], verbose=0).argmax(axis=1)
    assert accuracy == pytest.approx(float((predictions == g["y_test"]).mean()), abs=1e-6)
