"""The training program (featherflow/keras/models/training_program.py) against the tape step.

Each configuration trains twice from the same seed, once with programs on and once off; the weights,
the per-epoch losses and metrics must be bit-identical, and the program must really have run (or,
for the uncovered cases, really have declined).
"""

import numpy as np
import pytest

from featherflow import keras
from featherflow.keras.models import training_program as tp


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.random((150, 4, 5)).astype("float32")
    y = (x.reshape(150, -1)[:, :3].argmax(axis=1)).astype("int64")
    return x, y


@pytest.fixture
def program_steps(monkeypatch):
    """How many batches the programs trained (steps they declined are not counted)."""
    counts = [0]
    original = tp.TrainingProgram.run

    def counted(self, x, y, sample_weight):
        done = original(self, x, y, sample_weight)
        counts[0] += bool(done)
        return done

    monkeypatch.setattr(tp.TrainingProgram, "run", counted)
    yield counts
    tp.ENABLED[0] = True


def seed_model(hidden="relu", last="softmax", dtype=None, use_bias=True, dropout=0.25, depth=2):
    layers = [keras.layers.Flatten(input_shape=(4, 5), dtype=dtype)]
    for _ in range(depth - 1):
        layers.append(keras.layers.Dense(7, activation=hidden, use_bias=use_bias, dtype=dtype))
        if dropout:
            layers.append(keras.layers.Dropout(dropout, dtype=dtype))
    layers.append(keras.layers.Dense(3, activation=last, dtype=dtype))
    return keras.Sequential(layers)


def train(enabled, data, build=seed_model, optimizer="adam", loss="sparse_categorical_crossentropy",
          epochs=2, batch_size=32, fit_kwargs=None, prepare=None, **model_kwargs):
    tp.ENABLED[0] = enabled
    keras.utils.set_random_seed(3)
    model = build(**model_kwargs)
    if prepare is not None:
        prepare(model)
    # the reference is the eager tape step: a compiled step (tf.function) reads Python attributes such as the
    # dropout rate when it is traced, as TensorFlow does, not at every batch
    model.compile(optimizer=keras.optimizers.get(optimizer), loss=loss, metrics=["accuracy"], run_eagerly=not enabled)
    x, y = data
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, **(fit_kwargs or {}))
    return history.history, model.get_weights()


def assert_same(a, b):
    (history_a, weights_a), (history_b, weights_b) = a, b
    assert history_a == history_b
    assert len(weights_a) == len(weights_b)
    for wa, wb in zip(weights_a, weights_b):
        assert wa.dtype == wb.dtype
        np.testing.assert_array_equal(wa, wb)


STEPS = 2 * 5  # 2 epochs of 150 samples in batches of 32 (the last batch has 22)


@pytest.mark.parametrize("kwargs", [
    {},
    {"hidden": "tanh"},
    {"hidden": "sigmoid"},
    {"hidden": "linear", "dropout": 0},
    {"use_bias": False},
    {"depth": 3},
    {"depth": 1},
    {"dtype": "float64"},
    {"optimizer": "sgd"},
    {"optimizer": "rmsprop", "batch_size": 7},
    {"last": "linear", "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
], ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "seed")
def test_the_program_trains_exactly_as_the_tape_step(data, program_steps, kwargs):
    if kwargs.get("dtype") == "float64":
        data = (data[0].astype("float64"), data[1])
    batches = 2 * -(-150 // kwargs.get("batch_size", 32))
    with_program = train(True, data, **kwargs)
    # the first batch of a fit runs Keras's train_step (the fast steps are built from it)
    assert program_steps[0] == batches - 1
    assert_same(with_program, train(False, data, **kwargs))
    assert program_steps[0] == batches - 1
    history, weights = with_program
    assert np.isfinite(history["loss"]).all() and all(np.isfinite(w).all() for w in weights)


def test_labels_of_shape_n_1_and_other_integer_types(data, program_steps):
    x, y = data
    for labels in (y.reshape(-1, 1), y.astype("uint8"), y.astype("int32")):
        program_steps[0] = 0
        assert_same(train(True, (x, labels)), train(False, (x, labels)))
        assert program_steps[0] == STEPS - 1


def test_frozen_layers_get_no_update_and_the_rest_matches(data, program_steps):
    def freeze_first(model):
        model.layers[1].trainable = False

    def freeze_last(model):
        model.layers[-1].trainable = False

    for prepare in (freeze_first, freeze_last):
        program_steps[0] = 0
        keras.utils.set_random_seed(3)
        initial = seed_model(depth=3).get_weights()
        with_program = train(True, data, prepare=prepare, depth=3)
        assert program_steps[0] == STEPS - 1
        assert_same(with_program, train(False, data, prepare=prepare, depth=3))
        weights = with_program[1]
        frozen = (0, 1) if prepare is freeze_first else (4, 5)
        for i in frozen:
            np.testing.assert_array_equal(weights[i], initial[i])
        assert not np.array_equal(weights[2], initial[2])


def test_gradient_clipping_and_weight_decay_apply_to_the_programs_gradients(data, program_steps):
    for optimizer in (keras.optimizers.Adam(clipnorm=0.01), keras.optimizers.AdamW(weight_decay=0.1),
                      keras.optimizers.SGD(0.1, momentum=0.9, clipvalue=1e-3)):
        config = keras.optimizers.serialize(optimizer)
        program_steps[0] = 0
        a = train(True, data, optimizer=keras.optimizers.deserialize(config))
        assert program_steps[0] == STEPS - 1
        assert_same(a, train(False, data, optimizer=keras.optimizers.deserialize(config)))


@pytest.mark.parametrize("fit_kwargs", [
    {"sample_weight": np.linspace(0.5, 2.0, 150).astype("float32")},
    {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5}},
])
def test_weighted_batches_take_the_tape_step(data, program_steps, fit_kwargs):
    assert_same(train(True, data, fit_kwargs=fit_kwargs), train(False, data, fit_kwargs=fit_kwargs))
    assert program_steps[0] == 0


def test_float_labels_take_the_tape_step(data, program_steps):
    x, y = data
    labels = y.astype("float32")
    assert_same(train(True, (x, labels)), train(False, (x, labels)))
    assert program_steps[0] == 0


def test_labels_out_of_range_raise_the_losses_error(data, program_steps):
    x, y = data
    bad = y.copy()
    bad[40] = 3  # in the second batch (unshuffled), the first a program would run
    for enabled in (True, False):
        with pytest.raises(ValueError, match=r"label value of 3 which is outside the valid range of \[0, 3\)"):
            train(enabled, (x, bad), fit_kwargs={"shuffle": False})
    assert program_steps[0] == 0


@pytest.mark.parametrize("case", ["regularizer", "categorical", "mse", "softmax_inside", "noise_shape", "conv"])
def test_uncovered_models_and_losses_have_no_program(data, case):
    x, y = data
    keras.utils.set_random_seed(0)
    loss = "sparse_categorical_crossentropy"
    if case == "regularizer":
        model = keras.Sequential([keras.layers.Flatten(input_shape=(4, 5)),
                                  keras.layers.Dense(3, activation="softmax", kernel_regularizer="l2")])
    elif case in ("categorical", "mse"):
        model = seed_model()
        loss = case if case == "mse" else "categorical_crossentropy"
        y = np.eye(3, dtype="float32")[y]
    elif case == "softmax_inside":
        model = keras.Sequential([keras.layers.Flatten(input_shape=(4, 5)), keras.layers.Dense(4, "softmax"),
                                  keras.layers.Dense(3, "softmax")])
    elif case == "noise_shape":
        model = keras.Sequential([keras.layers.Flatten(input_shape=(4, 5)), keras.layers.Dense(4, "relu"),
                                  keras.layers.Dropout(0.5, noise_shape=(None, 1)), keras.layers.Dense(3, "softmax")])
    else:
        model = keras.Sequential([keras.layers.Reshape((4, 5, 1), input_shape=(4, 5)),
                                  keras.layers.Conv2D(2, 2), keras.layers.Flatten(), keras.layers.Dense(3, "softmax")])
    model.compile(optimizer="adam", loss=loss)
    model.fit(x, y, batch_size=50, epochs=1, verbose=0)
    variables = model.trainable_weights
    assert tp.training_program(model, variables, model.optimizer.flat_gradient_views(variables)) is None
    model.fit(x, y, batch_size=50, epochs=1, verbose=0)  # and the tape step trains it


def test_the_seed_model_on_mnist_is_bit_identical_with_and_without_the_program(program_steps):
    from featherflow.keras.datasets import mnist

    (x, y), _ = mnist.load_data(sample=True)
    x = x[:640].astype("float32") / 255.0
    y = y[:640]

    def lecture_model():
        return keras.Sequential([keras.layers.Flatten(input_shape=(28, 28)), keras.layers.Dense(128, "relu"),
                                 keras.layers.Dropout(0.2), keras.layers.Dense(10, activation="softmax")])

    a = train(True, (x, y), build=lecture_model, epochs=1)
    assert program_steps[0] == 19
    assert_same(a, train(False, (x, y), build=lecture_model, epochs=1))
    assert 0.0 < a[0]["accuracy"][0] <= 1.0


def test_a_functional_chain_without_flatten_is_covered(data, program_steps):
    x, y = data
    x = x.reshape(150, 20)

    def functional():
        inputs = keras.Input(shape=(20,))
        hidden = keras.layers.Dense(6, activation="relu")(inputs)
        return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Dropout(0.1)(hidden)))

    assert_same(train(True, (x, y), build=functional), train(False, (x, y), build=functional))
    assert program_steps[0] == STEPS - 1


class ChangeDropout(keras.callbacks.Callback):
    """Sets the dropout rate before chosen batches (as a schedule or PBT's in-place mutation would)."""

    def __init__(self, rates):
        super().__init__()
        self.rates = rates
        self.step = 0

    def on_train_batch_begin(self, batch, logs=None):
        rate = self.rates.get(self.step)
        if rate is not None:
            self.model.layers[2].rate = rate
        self.step += 1


def test_the_dropout_rate_is_read_at_every_step(data, program_steps):
    # 0 (no draw), 1 (everything dropped: the tape step's job), then another rate
    def fit_kwargs():
        return {"callbacks": [ChangeDropout({2: 0.0, 4: 1.0, 5: 0.6, 7: 0.0})]}

    a = train(True, data, fit_kwargs=fit_kwargs())
    assert program_steps[0] == STEPS - 2  # the first batch and the rate-1 batch
    assert_same(a, train(False, data, fit_kwargs=fit_kwargs()))
    assert_same(a, train(True, data, fit_kwargs=fit_kwargs()))
    assert not a[0] == train(True, data)[0]  # the rates changed the training
