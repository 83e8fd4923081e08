"""``fit``/``evaluate``/``predict`` run their steps through ``tf.function`` unless asked to run eagerly, with
tf.keras's ``run_eagerly`` / ``jit_compile`` meaning; eager and compiled steps give the same numbers."""

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras
from featherflow.keras.models.compiled_steps import StepFunction


def _data(n=24):
    rng = np.random.default_rng(1)
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, size=n)


def _model(seed=0, **compile_kwargs):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dropout(0.25), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **compile_kwargs)
    return model


def test_run_eagerly_follows_tf_keras_rules():
    model = _model()
    assert model.run_eagerly is False and model.jit_compile is None
    tf.config.run_functions_eagerly(True)
    try:
        assert model.run_eagerly is True  # unset: the global setting decides
    finally:
        tf.config.run_functions_eagerly(False)
    model.run_eagerly = True
    assert model.run_eagerly is True
    assert _model(run_eagerly=False).run_eagerly is False
    assert _model(jit_compile=True).jit_compile is True and _model(jit_compile="auto").jit_compile == "auto"
    with pytest.raises(ValueError, match="jit_compile"):
        _model(jit_compile="yes")


def test_fit_evaluate_predict_run_their_steps_through_step_functions():
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.evaluate(x, y, batch_size=8, verbose=0)
    model.predict(x, batch_size=8, verbose=0)
    for fn in (model._train_fn, model._test_fn, model._predict_fn):
        assert isinstance(fn, StepFunction) and not fn.runs_eagerly and fn.fallback_reason is None
    eager = _model(run_eagerly=True)
    eager.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert eager._train_fn.runs_eagerly and not eager._train_fn.compiled


@pytest.mark.parametrize("how", ["compile", "global"])
def test_eager_and_default_steps_give_identical_weights_logs_and_outputs(how):
    x, y = _data()
    results = []
    for eager in (False, True):
        model = _model(run_eagerly=True if eager and how == "compile" else None)
        if eager and how == "global":
            tf.config.run_functions_eagerly(True)
        try:
            history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.25)
            evaluation = model.evaluate(x, y, batch_size=5, verbose=0)
            outputs = model.predict(x, batch_size=7, verbose=0)
            on_batch = model.train_on_batch(x[:6], y[:6]), model.test_on_batch(x[:6], y[:6])
        finally:
            tf.config.run_functions_eagerly(False)
        results.append((history.history, evaluation, outputs, on_batch, model.get_weights()))
    (h1, e1, o1, b1, w1), (h2, e2, o2, b2, w2) = results
    assert h1 == h2 and e1 == e2 and b1 == b2
    np.testing.assert_array_equal(o1, o2)
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_custom_train_step_runs_through_a_step_function_and_its_first_batch_eagerly():
    calls = []

    class Custom(keras.Model):
        def train_step(self, data):
            calls.append(len(data))
            return super().train_step(data)

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(4,))
    model = Custom(inputs, keras.layers.Dense(3)(inputs))
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _data(16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert isinstance(model._train_fn, StepFunction) and model._train_fn.fallback_reason is None
    assert calls and model._train_fn.eager_calls == 0  # the first (eager) call is spent
