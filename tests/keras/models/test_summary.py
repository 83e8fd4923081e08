"""``model.summary()`` in tf.keras 2.12's layout (expected tables derived from its column rules)."""

import pytest

from featherflow import keras


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def lines_of(model, **kwargs):
    out = []
    model.summary(print_fn=out.append, **kwargs)
    return out


def two_tower():
    a = keras.Input(shape=(32,), name="a")
    b = keras.Input(shape=(32,), name="b")
    x = keras.layers.Dense(16, name="dense_a")(a)
    y = keras.layers.Dense(16, name="dense_b")(b)
    c = keras.layers.Concatenate(name="concat")([x, y])
    return keras.Model([a, b], keras.layers.Dense(1, name="out")(c))


TWO_TOWER = [
    'Model: "model"',
    "_" * 98,
    " Layer (type)                   Output Shape         Param #     Connected to".ljust(98),
    "=" * 98,
    " a (InputLayer)                 [(None, 32)]         0           []".ljust(98),
    " " * 98,
    " b (InputLayer)                 [(None, 32)]         0           []".ljust(98),
    " " * 98,
    " dense_a (Dense)                (None, 16)           528         ['a[0][0]']".ljust(98),
    " " * 98,
    " dense_b (Dense)                (None, 16)           528         ['b[0][0]']".ljust(98),
    " " * 98,
    " concat (Concatenate)           (None, 32)           0           ['dense_a[0][0]',".ljust(98),
    (" " * 65 + " 'dense_b[0][0]']").ljust(98),
    " " * 98,
    " out (Dense)                    (None, 1)            33          ['concat[0][0]']".ljust(98),
    " " * 98,
    "=" * 98,
    "Total params: 1,089",
    "Trainable params: 1,089",
    "Non-trainable params: 0",
    "_" * 98,
]


def test_multi_input_model_has_a_connected_to_column():
    assert lines_of(two_tower()) == TWO_TOWER


def test_a_chain_of_layers_is_sequential_like_even_when_functional():
    x = keras.Input(shape=(4,), name="x")
    model = keras.Model(x, keras.layers.Dense(2, name="d")(x), name="chain")
    lines = lines_of(model)
    assert lines[2] == " Layer (type)                Output Shape              Param #   "
    assert lines[4] == " x (InputLayer)              [(None, 4)]               0         "
    assert lines[6] == " d (Dense)                   (None, 2)                 10        "


def test_line_length_positions_and_print_fn():
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(2,), name="d")], name="s")
    lines = lines_of(model, line_length=80)
    assert lines[1] == "_" * 80 and lines[2].index("Output Shape") == 36 and lines[2].index("Param #") == 68
    lines = lines_of(model, positions=[10, 25, 31])
    assert lines[1] == "_" * 65  # absolute positions leave the default line length
    # The name does not fit its 8 characters: the rest continues on the next line.
    assert lines[2:4] == [" Layer (t  Output Shape  Param ", " ype)                    #     "]
    assert lines[5] == " d (Dense  (None, 3)     9     "
    assert lines[6] == " )".ljust(31)
    lines = lines_of(model, show_trainable=True)
    assert lines[2].rstrip().endswith("Trainable") and len(lines[1]) == 76 and lines[4].rstrip().endswith("Y")


def test_long_shapes_wrap_at_the_end_of_a_tuple():
    x = keras.Input(shape=(4,))
    model = keras.Model(x, [keras.layers.Dense(2, name="first")(x), keras.layers.Dense(3, name="second")(x)])
    lines = lines_of(model)
    assert lines[0] == 'Model: "model"' and "Connected to" in lines[2]  # two output nodes: not a chain


def test_nested_models_and_expand_nested():
    inner = keras.Sequential([keras.layers.Dense(4, input_shape=(3,), name="i1"), keras.layers.Dense(2, name="i2")],
                             name="inner")
    outer = keras.Sequential([inner, keras.layers.Dense(1, name="head")], name="outer")
    lines = lines_of(outer)
    assert lines[4].startswith(" inner (Sequential)          (None, 2)                 26")
    expanded = lines_of(outer, expand_nested=True)
    assert expanded[5] == "|" + "\u00af" * 63 + "|"
    assert expanded[6].startswith("| i1 (Dense)") and expanded[6].endswith("|") and len(expanded[6]) == 65
    assert expanded[9] == "\u00af" * 65
    assert any(line.startswith(" head (Dense)") for line in expanded)


def test_layer_range_and_totals_with_non_trainable_weights():
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(2,), name="first"),
                              keras.layers.BatchNormalization(name="bn"), keras.layers.Dense(1, name="last")])
    lines = lines_of(model, layer_range=["bn", "last"])
    body = [line for line in lines[4:] if line.strip() and not line.startswith("=")]
    assert body[0].startswith(" bn (BatchNormalization)") and body[1].startswith(" last (Dense)")
    assert lines[-4:-1] == ["Total params: 25", "Trainable params: 19", "Non-trainable params: 6"]
    with pytest.raises(ValueError, match="do not match"):
        model.summary(layer_range=["nope", "last"])
    model.layers[0].trainable = False
    assert lines_of(model)[-3:-1] == ["Trainable params: 10", "Non-trainable params: 15"]


def test_default_print_goes_to_stdout(capsys):
    keras.Sequential([keras.layers.Dense(1, input_shape=(1,))]).summary()
    assert capsys.readouterr().out.splitlines()[0] == 'Model: "sequential"'
