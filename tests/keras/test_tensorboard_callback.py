"""keras.callbacks.TensorBoard: the files tf.keras 2 writes, read back with TensorBoard's event reader."""

import json
import os

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_file_loader  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402


def events(directory):
    out = []
    for name in sorted(os.listdir(directory)):
        for event in event_file_loader.LegacyEventFileLoader(os.path.join(directory, name)).Load():
            for value in event.summary.value:
                out.append((event.step, value.tag, value.metadata.plugin_data.plugin_name,
                            tensor_util.make_ndarray(value.tensor)))
    return out


def _model():
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse", metrics=["mae"])
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(20, 3)).astype("float32"), rng.normal(size=(20, 1)).astype("float32")


def test_epoch_scalars_histograms_images_and_graph(tmp_path):
    model = _model()
    x, y = _data()
    history = model.fit(x, y, batch_size=5, epochs=2, validation_data=(x, y), verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1, write_images=True)])
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train = events(tmp_path / "train")
    step, tag, plugin, config = train[0]
    assert (step, tag, plugin) == (0, "keras", "graph_keras_model")
    assert json.loads(config.item())["class_name"] == "Sequential"
    scalars = {(s, t): float(a) for s, t, p, a in train if p == "scalars"}
    assert scalars == pytest.approx({(e, f"epoch_{k}"): history.history[k][e] for e in (0, 1) for k in ("loss", "mae")})
    hist_tags = [t for s, t, p, _ in train if p == "histograms" and s == 1]
    assert hist_tags == ["dense/kernel_0/histogram", "dense/bias_0/histogram", "dense_1/kernel_0/histogram",
                         "dense_1/bias_0/histogram"]
    kernel_hist = [a for s, t, p, a in train if t == "dense/kernel_0/histogram" and s == 1][0]
    assert kernel_hist.shape == (30, 3) and kernel_hist[:, 2].sum() == 6
    assert kernel_hist[0, 0] == pytest.approx(model.layers[0].get_weights()[0].min())
    images = [t for s, t, p, _ in train if p == "images" and s == 0]
    assert images == ["dense/kernel_0/image", "dense/bias_0/image", "dense_1/kernel_0/image"]  # a 1-value bias: none
    val = events(tmp_path / "validation")
    val_scalars = {(s, t): float(a) for s, t, p, a in val}
    expected = {(e, f"epoch_{k}"): history.history[f"val_{k}"][e] for e in (0, 1) for k in ("loss", "mae")}
    expected.update({(4 * (e + 1), f"evaluation_{k}_vs_iterations"): history.history[f"val_{k}"][e]
                     for e in (0, 1) for k in ("loss", "mae")})
    assert val_scalars == pytest.approx(expected)


def test_the_graph_is_one_tensorboard_can_draw(tmp_path):
    from tensorboard.plugins.graph import keras_util

    inputs = keras.Input((4,), name="features")
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(1, name="a")(hidden), keras.layers.Dense(2, name="b")(hidden)])
    model.compile("sgd", "mse")
    callback = keras.callbacks.TensorBoard(str(tmp_path))
    callback.set_model(model)
    callback.on_train_end()
    (_, tag, _, config), = events(tmp_path / "train")
    graph = keras_util.keras_model_to_graph_def(json.loads(config.item()))
    names = {node.name for node in graph.node}
    assert {"features", "hidden", "a", "b"} <= {n.split("/")[-1] for n in names}


class _Logs(keras.layers.Layer):
    def call(self, inputs):
        tf.summary.scalar("mean_input", tf.reduce_mean(inputs))
        return inputs


def test_batch_updates_and_summaries_written_inside_the_model(tmp_path):
    model = keras.Sequential([keras.Input((3,)), _Logs(), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = _data()
    model.fit(x, y, batch_size=5, epochs=2, verbose=0, validation_data=(x[:10], y[:10]), shuffle=False,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path), update_freq=2, write_graph=False)])
    train = events(tmp_path / "train")
    assert [(s, t) for s, t, _, _ in train if t == "batch_loss"] == [(2, "batch_loss"), (4, "batch_loss"),
                                                                    (6, "batch_loss"), (8, "batch_loss")]
    # summaries from inside the model: the step is the batches done before it (0, 2, 4, 6: every 2nd)
    inside = [(s, float(a)) for s, t, _, a in train if t == "mean_input"]
    assert [s for s, _ in inside] == [0, 2, 4, 6]
    assert inside[0][1] == pytest.approx(float(x[:5].mean()), rel=1e-5)
    assert [s for s, t, _, _ in events(tmp_path / "validation") if t == "mean_input"] == [0, 0]
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(str(tmp_path), update_freq="step")


def test_learning_rate_schedule_and_steps_per_second(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)
    model.compile(keras.optimizers.SGD(schedule), "mse")
    x, y = _data()
    model.fit(x, y, batch_size=5, epochs=2, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path), write_steps_per_second=True)])
    train = {(s, t): float(a) for s, t, p, a in events(tmp_path / "train") if p == "scalars"}
    assert train[(0, "epoch_learning_rate")] == pytest.approx(0.05)
    assert train[(1, "epoch_learning_rate")] == pytest.approx(0.025)
    assert train[(0, "epoch_steps_per_second")] > 0


def test_unsupported_options_warn_and_v1_kwargs():
    with pytest.warns(UserWarning, match="profiler"):
        keras.callbacks.TensorBoard(profile_batch=2)
    with pytest.warns(UserWarning, match="write_grads"):
        keras.callbacks.TensorBoard(write_grads=True)
    with pytest.raises(ValueError, match="Unrecognized arguments"):
        keras.callbacks.TensorBoard(histogram="yes")
