"""``fit`` keeps its compiled train step across calls (as tf.keras keeps ``train_function``), and traces again when
what the trace baked in changes: the trained variables, a layer's Python settings (a Dropout rate), the optimizer's."""

import numpy as np

import featherflow as ff
from featherflow import keras


def _model(rate=0.3):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dropout(rate),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 5)).astype("float32"), rng.integers(0, 3, 40)


def test_a_second_fit_replays_the_same_trace():
    model = _model()
    x, y = _data()
    model.fit(x, y, batch_size=8, verbose=0)
    step = model._train_fn
    model.fit(x, y, batch_size=8, verbose=0)
    assert model._train_fn is step and step.function.experimental_get_tracing_count() == 1


def test_changed_settings_between_fits_are_followed():
    x, y = _data()
    compiled, eager = _model(), _model()
    eager.run_eagerly = True
    for model in (compiled, eager):
        keras.utils.set_random_seed(3)
        model.fit(x, y, batch_size=8, verbose=0)
        model.layers[1].rate = 0.6  # as population-based training perturbs it
        model.optimizer.beta_1 = 0.5
        keras.utils.set_random_seed(4)  # a new global generator: the compiled step must draw from it
        model.fit(x, y, batch_size=8, verbose=0)
    for got, want in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_a_traced_function_draws_from_the_generator_set_seed_made():
    @ff.function
    def draw():
        return ff.random.uniform([3])

    ff.random.set_seed(1)
    draw()
    ff.random.set_seed(7)
    after_reseed = draw().numpy()
    ff.random.set_seed(7)
    ff.config.run_functions_eagerly(True)
    try:
        eager = draw().numpy()
    finally:
        ff.config.run_functions_eagerly(False)
    np.testing.assert_array_equal(after_reseed, eager)
