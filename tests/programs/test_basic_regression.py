"""tensorflow.org "Basic regression: Predict fuel efficiency", on an auto-MPG-shaped pandas DataFrame.

pandas cleaning (`dropna`, one-hot `Origin` with `pd.get_dummies`), a `Normalization` layer adapted to the
DataFrame's features, a one-feature linear model fed a pandas Series (`Normalization(input_shape=[1,], axis=None)`),
`validation_split`, `history` turned into a DataFrame, predicting on `tf.linspace`, a DNN on all features, and the
`.keras` round trip of the trained DNN.
"""

import numpy as np
import pandas as pd
from program_data import auto_mpg_like

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers


def build_and_compile_model(norm):
    model = keras.Sequential([
        norm,
        layers.Dense(32, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(loss="mean_absolute_error", optimizer=tf.keras.optimizers.Adam(0.01))
    return model


def test_predict_fuel_efficiency(tmp_path):
    tf.keras.utils.set_random_seed(0)
    raw_dataset = auto_mpg_like()
    dataset = raw_dataset.copy()
    assert dataset.isna().sum()["Horsepower"] == 6
    dataset = dataset.dropna()
    dataset["Origin"] = dataset["Origin"].map({1: "USA", 2: "Europe", 3: "Japan"})
    dataset = pd.get_dummies(dataset, columns=["Origin"], prefix="", prefix_sep="", dtype=float)
    train_dataset = dataset.sample(frac=0.8, random_state=0)
    test_dataset = dataset.drop(train_dataset.index)

    train_features = train_dataset.copy()
    test_features = test_dataset.copy()
    train_labels = train_features.pop("MPG")
    test_labels = test_features.pop("MPG")
    assert train_features.shape[1] == 9  # 6 numeric columns and 3 one-hot origin columns

    normalizer = tf.keras.layers.Normalization(axis=-1, input_shape=[train_features.shape[1]])
    normalizer.adapt(np.array(train_features))
    # adapt computes the population mean and variance of each column.
    expected_mean = np.array(train_features, dtype="float64").mean(axis=0)
    expected_var = np.array(train_features, dtype="float64").var(axis=0)
    np.testing.assert_allclose(normalizer.mean.numpy().ravel(), expected_mean, rtol=1e-5)
    np.testing.assert_allclose(normalizer.variance.numpy().ravel(), expected_var, rtol=1e-4)
    first = np.array(train_features[:1])
    normalized = normalizer(first).numpy()
    np.testing.assert_allclose(normalized, (first.astype("float64") - expected_mean) / np.sqrt(expected_var),
                               rtol=1e-4, atol=1e-5)

    # Linear regression on one feature, fed a pandas Series.
    horsepower = np.array(train_features["Horsepower"])
    horsepower_normalizer = layers.Normalization(input_shape=[1, ], axis=None)
    horsepower_normalizer.adapt(horsepower)
    horsepower_model = tf.keras.Sequential([horsepower_normalizer, layers.Dense(units=1)])
    assert horsepower_model.predict(horsepower[:10], verbose=0).shape == (10, 1)
    horsepower_model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error")
    history = horsepower_model.fit(train_features["Horsepower"], train_labels, epochs=100, verbose=0,
                                   validation_split=0.2)
    hist = pd.DataFrame(history.history)
    hist["epoch"] = history.epoch
    assert list(hist.columns) == ["loss", "val_loss", "epoch"] and len(hist) == 100
    assert hist["loss"].iloc[-1] < 0.3 * hist["loss"].iloc[0]
    x = tf.linspace(0.0, 250, 251)
    y = horsepower_model.predict(x, verbose=0)
    assert y.shape == (251, 1)
    assert y[0, 0] > y[-1, 0]  # MPG falls with horsepower
    hp_mae = horsepower_model.evaluate(test_features["Horsepower"], test_labels, verbose=0)
    # The labels' spread around their mean (what predicting the mean would score) is the bar to beat.
    baseline_mae = float(np.mean(np.abs(test_labels - train_labels.mean())))
    assert hp_mae < 0.8 * baseline_mae, (hp_mae, baseline_mae)

    # A DNN on all the features beats the one-feature line.
    dnn_model = build_and_compile_model(normalizer)
    dnn_model.fit(train_features, train_labels, validation_split=0.2, verbose=0, epochs=40)
    dnn_mae = dnn_model.evaluate(test_features, test_labels, verbose=0)
    assert dnn_mae < hp_mae, (dnn_mae, hp_mae)
    test_predictions = dnn_model.predict(test_features, verbose=0).flatten()
    assert test_predictions.shape == (len(test_labels),)
    np.testing.assert_allclose(np.mean(np.abs(test_predictions - test_labels)), dnn_mae, rtol=1e-4)

    dnn_model.save(tmp_path / "dnn_model.keras")
    reloaded = tf.keras.models.load_model(tmp_path / "dnn_model.keras")
    np.testing.assert_allclose(reloaded.predict(test_features, verbose=0).flatten(), test_predictions,
                               rtol=1e-5, atol=1e-5)
    assert abs(reloaded.evaluate(test_features, test_labels, verbose=0) - dnn_mae) < 1e-4
