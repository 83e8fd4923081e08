"""keras.models: experimental.SharpnessAwareMinimization (one step checked by hand) and model_from_yaml's error."""

import numpy as np
import pytest

from featherflow import keras


def _mse_gradient(x, y, w, b):
    residual = x @ w + b - y  # d/dw mean((xw + b - y)^2) over all entries
    return 2 * x.T @ residual / residual.size, 2 * residual.sum(0) / residual.size


@pytest.mark.parametrize("splits", [None, 2])
def test_one_sam_step_by_hand(splits):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3)).astype("float64")
    y = rng.normal(size=(8, 1)).astype("float64")
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])  # float32, as the wrapper casts inputs
    w0, b0 = [a.astype("float64") for a in inner.get_weights()]
    rho, lr = 0.1, 0.5
    model = keras.models.experimental.SharpnessAwareMinimization(inner, rho=rho, num_batch_splits=splits)
    model.compile(keras.optimizers.SGD(lr), "mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    total_w, total_b = np.zeros_like(w0), np.zeros_like(b0)
    for xs, ys in zip(np.array_split(x, splits or 1), np.array_split(y, splits or 1)):
        gw, gb = _mse_gradient(xs, ys, w0, b0)
        scale = rho / (np.sqrt((gw ** 2).sum() + (gb ** 2).sum()) + 1e-12)
        gw2, gb2 = _mse_gradient(xs, ys, w0 + gw * scale, b0 + gb * scale)
        total_w, total_b = total_w + gw2, total_b + gb2
    np.testing.assert_allclose(inner.get_weights()[0], w0 - lr * total_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(inner.get_weights()[1], b0 - lr * total_b, rtol=1e-5, atol=1e-6)


def test_sam_config_round_trip_and_yaml():
    inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    sam = keras.models.experimental.SharpnessAwareMinimization(inner, rho=0.2, num_batch_splits=3)
    again = type(sam).from_config(sam.get_config())
    assert (again.rho, again.num_batch_splits) == (0.2, 3) and len(again.model.layers) == 1
    with pytest.raises(RuntimeError, match="model_from_json"):
        keras.models.model_from_yaml("{}")
