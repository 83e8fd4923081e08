"""tensorflow.org "Time series forecasting" tutorial, on an hourly weather-like pandas DataFrame.

Train/validation/test splits normalised with the training mean and standard deviation; the tutorial's
`WindowGenerator` (index arithmetic, `split_window` with `tf.stack` over label columns and `set_shape`,
`make_dataset` with `tf.keras.utils.timeseries_dataset_from_array` and `Dataset.map`, `train`/`val`/`test`
properties, `example` via `next(iter(...))`); a persistence `Baseline` model subclass, linear, dense,
multi-step dense (`Flatten` + `Reshape([1, -1])`), `Conv1D` and `LSTM(return_sequences=True)` models fitted by
`compile_and_fit` with `EarlyStopping(mode="min")`; the learned models must beat the baseline.
"""

import numpy as np
import pandas as pd

import featherflow as tf


def weather_frame(hours=1600, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(hours)
    day = 2 * np.pi * t / 24
    # Stationary weather: a daily cycle plus slowly varying (AR(1)) deviations, so the splits look alike.
    drift = np.zeros(hours)
    for i in range(1, hours):
        drift[i] = 0.95 * drift[i - 1] + rng.normal(0, 0.4)
    temperature = 10 + 6 * np.sin(day) + drift + rng.normal(0, 0.3, hours)
    pressure = 1000 + 4 * np.sin(2 * np.pi * t / 120) + rng.normal(0, 0.5, hours)
    humidity = 70 - 2.5 * (temperature - 10) + rng.normal(0, 2, hours)
    wind = np.abs(rng.normal(2, 1, hours))
    return pd.DataFrame({"p (mbar)": pressure, "T (degC)": temperature, "rh (%)": humidity, "wv (m/s)": wind,
                         "Day sin": np.sin(day), "Day cos": np.cos(day)})


class WindowGenerator:
    def __init__(self, input_width, label_width, shift, train_df, val_df, test_df, label_columns=None):
        self.train_df = train_df
        self.val_df = val_df
        self.test_df = test_df
        self.label_columns = label_columns
        if label_columns is not None:
            self.label_columns_indices = {name: i for i, name in enumerate(label_columns)}
        self.column_indices = {name: i for i, name in enumerate(train_df.columns)}
        self.input_width = input_width
        self.label_width = label_width
        self.shift = shift
        self.total_window_size = input_width + shift
        self.input_slice = slice(0, input_width)
        self.input_indices = np.arange(self.total_window_size)[self.input_slice]
        self.label_start = self.total_window_size - self.label_width
        self.labels_slice = slice(self.label_start, None)
        self.label_indices = np.arange(self.total_window_size)[self.labels_slice]

    def split_window(self, features):
        inputs = features[:, self.input_slice, :]
        labels = features[:, self.labels_slice, :]
        if self.label_columns is not None:
            labels = tf.stack([labels[:, :, self.column_indices[name]] for name in self.label_columns], axis=-1)
        inputs.set_shape([None, self.input_width, None])
        labels.set_shape([None, self.label_width, None])
        return inputs, labels

    def make_dataset(self, data, shuffle=True):
        data = np.array(data, dtype=np.float32)
        ds = tf.keras.utils.timeseries_dataset_from_array(
            data=data, targets=None, sequence_length=self.total_window_size, sequence_stride=1, shuffle=shuffle,
            batch_size=32)
        return ds.map(self.split_window)

    @property
    def train(self):
        return self.make_dataset(self.train_df)

    @property
    def val(self):
        return self.make_dataset(self.val_df)

    @property
    def test(self):
        return self.make_dataset(self.test_df, shuffle=False)

    @property
    def example(self):
        result = getattr(self, "_example", None)
        if result is None:
            result = next(iter(self.train))
            self._example = result
        return result


class Baseline(tf.keras.Model):
    def __init__(self, label_index=None):
        super().__init__()
        self.label_index = label_index

    def call(self, inputs):
        if self.label_index is None:
            return inputs
        result = inputs[:, :, self.label_index]
        return result[:, :, tf.newaxis]


MAX_EPOCHS = 8


def compile_and_fit(model, window, patience=2):
    early_stopping = tf.keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, mode="min")
    model.compile(loss=tf.keras.losses.MeanSquaredError(), optimizer=tf.keras.optimizers.Adam(1e-2),
                  metrics=[tf.keras.metrics.MeanAbsoluteError()])
    return model.fit(window.train, epochs=MAX_EPOCHS, validation_data=window.val, callbacks=[early_stopping],
                     verbose=0)


def splits():
    df = weather_frame()
    n = len(df)
    train_df = df[0:int(n * 0.7)]
    val_df = df[int(n * 0.7):int(n * 0.9)]
    test_df = df[int(n * 0.9):]
    train_mean = train_df.mean()
    train_std = train_df.std()
    return (train_df - train_mean) / train_std, (val_df - train_mean) / train_std, (test_df - train_mean) / train_std


def test_windows():
    train_df, val_df, test_df = splits()
    w2 = WindowGenerator(input_width=6, label_width=1, shift=1, train_df=train_df, val_df=val_df, test_df=test_df,
                         label_columns=["T (degC)"])
    assert w2.total_window_size == 7
    np.testing.assert_array_equal(w2.input_indices, np.arange(6))
    np.testing.assert_array_equal(w2.label_indices, [6])

    example_window = tf.stack([np.array(train_df[:w2.total_window_size]),
                               np.array(train_df[100:100 + w2.total_window_size]),
                               np.array(train_df[200:200 + w2.total_window_size])])
    example_inputs, example_labels = w2.split_window(example_window)
    assert example_window.shape == (3, 7, 6)
    assert example_inputs.shape == (3, 6, 6) and example_labels.shape == (3, 1, 1)
    np.testing.assert_allclose(example_labels.numpy()[1, 0, 0], train_df["T (degC)"].iloc[106], rtol=1e-6)

    spec_inputs, spec_labels = w2.train.element_spec
    assert spec_inputs.shape.as_list() == [None, 6, 6] and spec_labels.shape.as_list() == [None, 1, 1]
    assert spec_inputs.dtype == tf.float32
    inputs, labels = w2.example
    assert inputs.shape == (32, 6, 6) and labels.shape == (32, 1, 1)
    # Every window of the unshuffled test split, in order.
    batches = list(w2.test)
    assert sum(int(b[0].shape[0]) for b in batches) == len(test_df) - 7 + 1
    first_inputs, first_labels = batches[0]
    np.testing.assert_allclose(first_inputs.numpy()[0], np.array(test_df[:6], dtype="float32"), rtol=1e-6)
    np.testing.assert_allclose(first_labels.numpy()[3, 0, 0], np.float32(test_df["T (degC)"].iloc[9]), rtol=1e-6)


def test_single_and_multi_step_models_beat_the_baseline():
    tf.keras.utils.set_random_seed(0)
    train_df, val_df, test_df = splits()
    column_indices = {name: i for i, name in enumerate(train_df.columns)}
    single_step_window = WindowGenerator(input_width=1, label_width=1, shift=1, train_df=train_df, val_df=val_df,
                                         test_df=test_df, label_columns=["T (degC)"])
    baseline = Baseline(label_index=column_indices["T (degC)"])
    baseline.compile(loss=tf.keras.losses.MeanSquaredError(), metrics=[tf.keras.metrics.MeanAbsoluteError()])
    baseline_mae = baseline.evaluate(single_step_window.test, verbose=0, return_dict=True)["mean_absolute_error"]
    # Persistence: the error of predicting each hour's temperature by the previous hour's.
    temperature = np.array(test_df["T (degC)"], dtype="float32")
    np.testing.assert_allclose(baseline_mae, np.mean(np.abs(np.diff(temperature))), rtol=1e-4)

    performance = {}
    linear = tf.keras.Sequential([tf.keras.layers.Dense(units=1)])
    history = compile_and_fit(linear, single_step_window)
    assert set(history.history) == {"loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"}
    performance["Linear"] = linear.evaluate(single_step_window.test, verbose=0)[1]
    assert linear.layers[0].kernel.shape == (6, 1)

    conv_width = 3
    conv_window = WindowGenerator(input_width=conv_width, label_width=1, shift=1, train_df=train_df, val_df=val_df,
                                  test_df=test_df, label_columns=["T (degC)"])
    multi_step_dense = tf.keras.Sequential([
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(units=32, activation="relu"),
        tf.keras.layers.Dense(units=1),
        tf.keras.layers.Reshape([1, -1]),
    ])
    assert multi_step_dense(conv_window.example[0]).shape == (32, 1, 1)
    compile_and_fit(multi_step_dense, conv_window)
    performance["Multi step dense"] = multi_step_dense.evaluate(conv_window.test, verbose=0)[1]

    conv_model = tf.keras.Sequential([
        tf.keras.layers.Conv1D(filters=16, kernel_size=(conv_width,), activation="relu"),
        tf.keras.layers.Dense(units=16, activation="relu"),
        tf.keras.layers.Dense(units=1),
    ])
    assert conv_model(conv_window.example[0]).shape == (32, 1, 1)
    compile_and_fit(conv_model, conv_window)
    performance["Conv"] = conv_model.evaluate(conv_window.test, verbose=0)[1]

    wide_window = WindowGenerator(input_width=12, label_width=12, shift=1, train_df=train_df, val_df=val_df,
                                  test_df=test_df, label_columns=["T (degC)"])
    lstm_model = tf.keras.models.Sequential([
        tf.keras.layers.LSTM(16, return_sequences=True),
        tf.keras.layers.Dense(units=1),
    ])
    assert lstm_model(wide_window.example[0]).shape == (32, 12, 1)
    compile_and_fit(lstm_model, wide_window)
    performance["LSTM"] = lstm_model.evaluate(wide_window.test, verbose=0)[1]

    # Knowing the hour of day and the humidity, every learned model beats persistence.
    for name, mae in performance.items():
        assert mae < baseline_mae, (name, mae, baseline_mae)
