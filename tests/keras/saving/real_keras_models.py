"""The fixture models, written once against the Keras API so Keras 3, tf_keras and featherflow all build them.

Every builder takes the ``keras`` module to use (``keras`` 3, ``tf_keras`` or ``featherflow.keras``) and
returns a compiled model; ``data(name)`` gives the deterministic inputs and targets for it. The generator
(``fixtures/real_keras/make_real_keras_fixtures.py``, run in a TensorFlow side environment) and the checker
(``fixtures/featherflow_written/check_featherflow_files.py``)
import this file; the featherflow tests import it too (nothing here imports TensorFlow).
"""

from __future__ import annotations

import numpy as np

MODEL_NAMES = ("mlp", "cnn", "rnn", "text", "nested", "nested_fn", "multi_io", "zoo_conv", "zoo_seq",
               "zoo_attention", "zoo_3d", "keywords", "text_vec", "text_vocab")
# (model, file) pairs a Keras cannot write with the model's state in them: no such fixture file exists
NOT_WRITTEN = {
    ("text_vec", "k3-model.h5"): "Keras 3's legacy .h5 leaves adapted vocabularies out (its config has vocabulary=None)",
    ("text_vec", "tfk-model.h5"): "tf_keras refuses: NotImplementedError, a vocabulary is not a tf.Variable in h5",
    ("text_vec", "tfk-weights.h5"): "tf_keras refuses: NotImplementedError, a vocabulary is not a tf.Variable in h5",
}
TEXT_CORPUS = ("the cat sat on the mat", "the dog ate my homework", "a cat and a dog played", "my mat is red",
               "the red dog sat on a cat", "homework is red")


def mlp(k):
    """Flatten / Dense / Dropout Sequential trained with Adam (the optimizer-state model)."""
    model = k.Sequential([
        k.Input(shape=(2, 3)),
        k.layers.Flatten(),
        k.layers.Dense(8, activation="relu"),
        k.layers.Dropout(0.25),
        k.layers.Dense(3, activation="softmax"),
    ], name="mlp")
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def cnn(k):
    """Conv2D + BatchNormalization (moving statistics) + pooling, SGD with Nesterov momentum."""
    model = k.Sequential([
        k.Input(shape=(6, 6, 2)),
        k.layers.Conv2D(3, 3, padding="same"),
        k.layers.BatchNormalization(),
        k.layers.Activation("relu"),
        k.layers.MaxPooling2D(2),
        k.layers.Conv2D(4, 2, strides=1, activation="tanh", kernel_initializer="he_normal"),
        k.layers.GlobalAveragePooling2D(),
        k.layers.Dense(3),
    ], name="cnn")
    model.compile(optimizer=k.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
                  loss=k.losses.CategoricalCrossentropy(from_logits=True),
                  metrics=[k.metrics.CategoricalAccuracy()])
    return model


def rnn(k):
    """Masking -> LSTM -> GRU -> SimpleRNN, RMSprop with an exponentially decaying learning rate."""
    schedule = k.optimizers.schedules.ExponentialDecay(0.01, decay_steps=4, decay_rate=0.9)
    model = k.Sequential([
        k.Input(shape=(5, 3)),
        k.layers.Masking(mask_value=0.0),
        k.layers.LSTM(4, return_sequences=True),
        k.layers.GRU(3, return_sequences=True),
        k.layers.SimpleRNN(2),
        k.layers.Dense(1),
    ], name="rnn")
    model.compile(optimizer=k.optimizers.RMSprop(learning_rate=schedule, rho=0.8), loss="mse", metrics=["mae"])
    return model


def text(k):
    """Embedding(mask_zero) -> Bidirectional(GRU) -> Bidirectional(LSTM, sum) -> Dense, Adam."""
    inputs = k.Input(shape=(6,), dtype="int32", name="tokens")
    x = k.layers.Embedding(12, 4, mask_zero=True)(inputs)
    x = k.layers.Bidirectional(k.layers.GRU(3, return_sequences=True))(x)
    x = k.layers.Bidirectional(k.layers.LSTM(2), merge_mode="sum")(x)
    outputs = k.layers.Dense(2, activation="softmax")(x)
    model = k.Model(inputs, outputs, name="text")
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def nested(k):
    """A Sequential inside a functional model, called twice; a shared layer; custom layer names."""
    left = k.Input(shape=(4,), name="left")
    right = k.Input(shape=(4,), name="right")
    shared = k.layers.Dense(3, activation="tanh", name="shared_proj")
    encoder = k.Sequential([k.Input(shape=(3,)), k.layers.Dense(5, activation="relu", name="my_enc_1"),
                            k.layers.Dense(3, name="my_enc_2")], name="encoder")
    a = encoder(shared(left))
    b = encoder(shared(right))
    merged = k.layers.Concatenate(name="join")([a, b])
    outputs = k.layers.Dense(2, name="head")(merged)
    model = k.Model([left, right], outputs, name="nested")
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01, amsgrad=True), loss="mse", metrics=["mae"])
    return model


def nested_fn(k):
    """A functional model inside a functional model, called twice (with a Sequential inside it)."""
    inner_in = k.Input(shape=(3,), name="inner_in")
    block = k.Sequential([k.layers.Dense(4, activation="relu", name="block_dense")], name="block")
    inner = k.Model(inner_in, k.layers.Dense(3, activation="sigmoid", name="inner_dense")(block(inner_in)),
                    name="inner_functional")
    inputs = k.Input(shape=(3,), name="features")
    a = inner(inputs)
    b = inner(k.layers.Dense(3, name="pre")(inputs))
    outputs = k.layers.Dense(2, name="head")(k.layers.Concatenate(name="join")([a, b]))
    model = k.Model(inputs, outputs, name="nested_fn")
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model


def multi_io(k):
    """Two inputs, two outputs, per-output losses, loss weights and metric lists; Nadam."""
    num = k.Input(shape=(5,), name="num")
    aux = k.Input(shape=(4,), name="aux")
    h = k.layers.Concatenate()([k.layers.Dense(6, activation="relu", name="num_dense")(num),
                                k.layers.Dense(6, name="aux_dense")(aux)])
    h = k.layers.LayerNormalization()(h)
    reg = k.layers.Dense(1, name="reg")(h)
    cls = k.layers.Dense(3, activation="softmax", name="cls")(h)
    model = k.Model({"num": num, "aux": aux}, {"reg": reg, "cls": cls}, name="multi_io")
    model.compile(optimizer=k.optimizers.Nadam(learning_rate=0.01),
                  loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"reg": 1.0, "cls": 0.5},
                  metrics={"reg": ["mae", k.metrics.RootMeanSquaredError()], "cls": ["accuracy"]})
    return model


def zoo_conv(k):
    """The image layers: rescaling, padding, separable/depthwise/transposed convs, pooling, normalisation."""
    inputs = k.Input(shape=(8, 8, 3), name="image")
    x = k.layers.Rescaling(0.5, offset=-0.25)(inputs)
    x = k.layers.ZeroPadding2D(1)(x)
    x = k.layers.SeparableConv2D(4, 3, activation="relu", depth_multiplier=2)(x)
    x = k.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    x = k.layers.LayerNormalization(axis=-1)(x)
    x = k.layers.Conv2DTranspose(3, 3, strides=2, padding="same")(x)
    x = k.layers.Cropping2D(((1, 1), (2, 2)))(x)
    x = k.layers.AveragePooling2D(2)(x)
    x = k.layers.UpSampling2D(2)(x)
    x = k.layers.MaxPooling2D(2, padding="same")(x)
    x = k.layers.PReLU(shared_axes=[1, 2])(x)
    x = k.layers.SpatialDropout2D(0.1)(x)
    x = k.layers.Concatenate()([k.layers.GlobalMaxPooling2D()(x), k.layers.GlobalAveragePooling2D()(x)])
    x = k.layers.UnitNormalization()(x)
    outputs = k.layers.Dense(2, kernel_regularizer=k.regularizers.L2(1e-3),
                             kernel_constraint=k.constraints.MaxNorm(2.0))(x)
    model = k.Model(inputs, outputs, name="zoo_conv")
    model.compile(optimizer=k.optimizers.AdamW(learning_rate=0.01, weight_decay=0.01), loss="mse")
    return model


def zoo_seq(k):
    """The sequence, merging, reshaping, noise and activation layers."""
    inputs = k.Input(shape=(6, 4), name="series")
    x = k.layers.Normalization(mean=[0.1, 0.2, 0.3, 0.4], variance=[1.0, 2.0, 0.5, 4.0])(inputs)
    x = k.layers.Conv1D(5, 2, padding="causal", activation="elu")(x)
    x = k.layers.SeparableConv1D(4, 3, padding="same")(x)
    x = k.layers.Conv1DTranspose(3, 2, strides=2)(x)
    x = k.layers.Cropping1D((1, 1))(x)
    x = k.layers.MaxPooling1D(2)(x)
    x = k.layers.UpSampling1D(2)(x)
    x = k.layers.ZeroPadding1D(1)(x)
    x = k.layers.AveragePooling1D(3)(x)
    x = k.layers.SpatialDropout1D(0.1)(x)
    x = k.layers.TimeDistributed(k.layers.Dense(4))(x)
    x = k.layers.LeakyReLU(negative_slope=0.2)(x) if _is_keras3(k) else k.layers.LeakyReLU(alpha=0.2)(x)
    flat = k.layers.Reshape((16,))(k.layers.Permute((2, 1))(x))
    g = k.layers.GlobalAveragePooling1D()(x)
    m = k.layers.GlobalMaxPooling1D()(x)
    merged = [k.layers.Add()([g, m]), k.layers.Subtract()([g, m]), k.layers.Multiply()([g, m]),
              k.layers.Average()([g, m]), k.layers.Maximum()([g, m]), k.layers.Minimum()([g, m]),
              k.layers.Dot(axes=1)([g, m])]
    x = k.layers.Concatenate()([flat, *merged])
    x = k.layers.GaussianNoise(0.1)(x)
    x = k.layers.GaussianDropout(0.1)(x)
    x = k.layers.AlphaDropout(0.1)(x)
    x = k.layers.ActivityRegularization(l1=0.01)(x)
    x = k.layers.Dense(6, kernel_initializer="lecun_normal", bias_initializer=k.initializers.Constant(0.1),
                       kernel_regularizer=k.regularizers.L1L2(l1=1e-4, l2=1e-3))(x)
    x = k.layers.RepeatVector(2)(x)
    x = k.layers.Flatten()(x)
    x = k.layers.ReLU(max_value=6.0)(k.layers.ELU()(x))
    x = k.layers.Softmax()(x)
    outputs = k.layers.Dense(2, activation="sigmoid")(x)
    model = k.Model(inputs, outputs, name="zoo_seq")
    model.compile(optimizer=k.optimizers.Adagrad(learning_rate=0.05), loss="binary_crossentropy")
    return model


def zoo_attention(k):
    """Attention layers (MultiHeadAttention, Attention, AdditiveAttention), EinsumDense, GroupNormalization,
    Discretization + CategoryEncoding, Identity. (tf_keras 2.21's SpectralNormalization does not build.)"""
    tokens = k.Input(shape=(4, 6), name="tokens")
    buckets = k.Input(shape=(3,), name="amounts")
    x = k.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="self_attention")(tokens, tokens)
    x = k.layers.GroupNormalization(groups=2)(x)
    query = k.layers.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d")(x)
    value = k.layers.Dense(5)(tokens)
    dot = k.layers.Attention(use_scale=True)([query, value])
    additive = k.layers.AdditiveAttention()([query, value])
    pooled = k.layers.GlobalAveragePooling1D()(k.layers.Add()([dot, additive]))
    bins = k.layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5])(buckets)
    codes = k.layers.CategoryEncoding(num_tokens=4, output_mode="count")(bins)
    joined = k.layers.Concatenate()([pooled, codes])
    outputs = k.layers.Dense(2)(k.layers.Identity()(joined))
    model = k.Model({"tokens": tokens, "amounts": buckets}, outputs, name="zoo_attention")
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model


def zoo_3d(k):
    """The 3-D layers, ConvLSTM2D and image augmentation layers (identities outside training; tf_keras 2.21's
    RandomContrast has no gradient, so it is left out)."""
    inputs = k.Input(shape=(4, 4, 4, 2), name="volume")
    x = k.layers.ZeroPadding3D(1)(inputs)
    x = k.layers.Conv3D(3, 2, activation="relu")(x)
    x = k.layers.MaxPooling3D(2)(x)
    x = k.layers.UpSampling3D(2)(x)
    x = k.layers.Cropping3D(1)(x)
    x = k.layers.Conv3DTranspose(2, 2, strides=2)(x)
    x = k.layers.AveragePooling3D(2)(x)
    x = k.layers.SpatialDropout3D(0.1)(x)
    volume = k.layers.GlobalAveragePooling3D()(x)
    frames = k.Input(shape=(3, 5, 5, 2), name="frames")
    # recurrent_activation given: the Kerases' defaults differ (tf.keras 2.x hard_sigmoid, Keras 3 sigmoid)
    y = k.layers.ConvLSTM2D(2, 3, padding="same", recurrent_activation="sigmoid")(frames)
    y = k.layers.RandomFlip("horizontal")(y)
    y = k.layers.RandomRotation(0.1)(y)
    y = k.layers.RandomZoom(0.1)(y)
    y = k.layers.GlobalMaxPooling2D()(y)
    outputs = k.layers.Dense(2)(k.layers.Concatenate()([volume, y]))
    model = k.Model({"volume": inputs, "frames": frames}, outputs, name="zoo_3d")
    model.compile(optimizer=k.optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True), loss="mse")
    return model


def keywords(k):
    """Tensors passed to layer calls by keyword: MultiHeadAttention's ``attention_mask``, Attention's
    ``mask=[query_mask, value_mask]`` (a list) and LSTM's ``initial_state=[h, c]`` computed by other layers."""
    tokens = k.Input(shape=(4, 6), name="tokens")
    pair_mask = k.Input(shape=(4, 4), name="pair_mask")
    step_mask = k.Input(shape=(4,), dtype="bool", name="step_mask")
    x = k.layers.MultiHeadAttention(num_heads=2, key_dim=3, name="self_attention")(tokens, tokens,
                                                                                   attention_mask=pair_mask)
    query = k.layers.Dense(5, name="query")(x)
    attended = k.layers.Attention(name="attend")([query, query], mask=[step_mask, step_mask])
    pooled = k.layers.GlobalAveragePooling1D(name="pool")(attended)
    state_h = k.layers.Dense(3, activation="tanh", name="state_h")(pooled)
    state_c = k.layers.Dense(3, name="state_c")(pooled)
    sequence = k.layers.LSTM(3, name="lstm")(tokens, initial_state=[state_h, state_c])
    outputs = k.layers.Dense(2, name="head")(k.layers.Concatenate(name="join")([pooled, sequence]))
    model = k.Model({"tokens": tokens, "pair_mask": pair_mask, "step_mask": step_mask}, outputs, name="keywords")
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model


def text_vec(k):
    """Raw strings in: TextVectorization first (adapted), then Embedding; StringLookup (adapted, tf_idf) and
    IntegerLookup (adapted, multi_hot) on two more inputs. Keras keeps adapted vocabularies as assets of the
    ``.keras`` file (``assets/<layer path>/vocabulary.txt``) and the idf weights with the variables."""
    raw = k.Input(shape=(1,), dtype="string", name="raw")
    tags = k.Input(shape=(2,), dtype="string", name="tags")
    codes = k.Input(shape=(2,), dtype="int64", name="codes")
    vectorize = k.layers.TextVectorization(max_tokens=12, output_sequence_length=5, name="vectorize")
    vectorize.adapt(np.array(TEXT_CORPUS))
    tag_lookup = k.layers.StringLookup(output_mode="tf_idf", name="tag_lookup")
    tag_lookup.adapt(np.array([["red", "blue"], ["red", "green"], ["blue", "red"]]))
    code_lookup = k.layers.IntegerLookup(output_mode="multi_hot", name="code_lookup")
    code_lookup.adapt(np.array([[3, 7], [7, 9], [7, 40]], dtype="int64"))
    return _text_head(k, "text_vec", raw, tags, codes, vectorize, tag_lookup, code_lookup)


def text_vocab(k):
    """The text_vec model with vocabularies given to the layers (tf_idf weights too, two OOV buckets): Keras
    keeps them in the layers' configs, in every file format."""
    raw = k.Input(shape=(1,), dtype="string", name="raw")
    tags = k.Input(shape=(2,), dtype="string", name="tags")
    codes = k.Input(shape=(2,), dtype="int64", name="codes")
    vectorize = k.layers.TextVectorization(output_sequence_length=5, name="vectorize", standardize="lower",
                                           vocabulary=["the", "red", "dog", "cat", "a", "sat", "on", "my", "mat"])
    tag_lookup = k.layers.StringLookup(output_mode="tf_idf", num_oov_indices=2, name="tag_lookup",
                                       vocabulary=["red", "blue", "green"], idf_weights=[0.5, 1.0, 1.5])
    code_lookup = k.layers.IntegerLookup(output_mode="multi_hot", vocabulary=[7, 40, 9], name="code_lookup")
    return _text_head(k, "text_vocab", raw, tags, codes, vectorize, tag_lookup, code_lookup)


def _text_head(k, name, raw, tags, codes, vectorize, tag_lookup, code_lookup):
    words = k.layers.GlobalAveragePooling1D(name="pool")(k.layers.Embedding(12, 4, mask_zero=True,
                                                                                     name="embed")(vectorize(raw)))
    joined = k.layers.Concatenate(name="join")([words, tag_lookup(tags), code_lookup(codes)])
    outputs = k.layers.Dense(2, activation="softmax", name="head")(joined)
    model = k.Model({"raw": raw, "tags": tags, "codes": codes}, outputs, name=name)
    model.compile(optimizer=k.optimizers.Adam(learning_rate=0.02), loss="sparse_categorical_crossentropy")
    return model


def _is_keras3(k) -> bool:
    return getattr(k, "__name__", "") == "keras"  # Keras 3 renamed LeakyReLU's `alpha` to `negative_slope`


BUILDERS = {name: globals()[name] for name in MODEL_NAMES}


def data(name: str, seed: int = 0) -> dict:
    """``{"x": inputs, "y": targets, "x_step": ..., "y_step": ...}`` for model ``name`` (deterministic)."""
    rng = np.random.default_rng(seed + MODEL_NAMES.index(name))
    n = 16

    def floats(*shape):
        return rng.standard_normal((n, *shape)).astype("float32")

    if name == "mlp":
        x, y = floats(2, 3), rng.integers(0, 3, n)
    elif name == "cnn":
        x, y = floats(6, 6, 2), np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    elif name == "rnn":
        x = floats(5, 3)
        x[::3, 3:] = 0.0  # masked trailing steps
        y = floats(1)
    elif name == "text":
        x = rng.integers(1, 12, (n, 6)).astype("int32")
        for i in range(n):
            x[i, 6 - i % 4:] = 0  # padding, masked by mask_zero
        y = rng.integers(0, 2, n)
    elif name == "nested":
        x, y = {"left": floats(4), "right": floats(4)}, floats(2)
    elif name == "nested_fn":
        x, y = floats(3), floats(2)
    elif name == "multi_io":
        x = {"num": floats(5), "aux": floats(4)}
        y = {"reg": floats(1), "cls": rng.integers(0, 3, n)}
    elif name == "zoo_conv":
        x, y = floats(8, 8, 3), floats(2)
    elif name == "zoo_seq":
        x, y = floats(6, 4), rng.integers(0, 2, (n, 2)).astype("float32")
    elif name == "zoo_attention":
        x, y = {"tokens": floats(4, 6), "amounts": floats(3)}, floats(2)
    elif name == "zoo_3d":
        x, y = {"volume": floats(4, 4, 4, 2), "frames": floats(3, 5, 5, 2)}, floats(2)
    elif name == "keywords":
        pair_mask = (rng.random((n, 4, 4)) > 0.4).astype("float32")
        pair_mask[:, np.arange(4), np.arange(4)] = 1.0  # every query attends somewhere
        step_mask = rng.random((n, 4)) > 0.3
        step_mask[:, 0] = True
        x, y = {"tokens": floats(4, 6), "pair_mask": pair_mask, "step_mask": step_mask}, floats(2)
    elif name in ("text_vec", "text_vocab"):
        words = np.array(" ".join(TEXT_CORPUS).split() + ["unseen", "zebra"])
        raw = [" ".join(rng.choice(words, rng.integers(1, 8))).capitalize() + "." for _ in range(n)]
        x = {"raw": np.array(raw)[:, None], "tags": rng.choice(["red", "blue", "green", "pink"], (n, 2)),
             "codes": rng.choice(np.array([3, 7, 9, 40, 5]), (n, 2))}
        y = rng.integers(0, 2, n)
    else:
        raise ValueError(f"Unknown fixture model {name!r}; expected one of {MODEL_NAMES}.")
    return {"x": x, "y": y}


def flatten(prefix: str, value) -> dict:
    """``{"x": arr}`` or ``{"x/num": arr, ...}`` for storing (possibly dict) data in an ``.npz``."""
    if isinstance(value, dict):
        return {f"{prefix}/{key}": np.asarray(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return {f"{prefix}/{i}": np.asarray(v) for i, v in enumerate(value)}
    return {prefix: np.asarray(value)}


def unflatten(arrays, prefix: str):
    """Inverse of ``flatten`` over an opened ``.npz`` (dicts come back as dicts, lists as lists)."""
    if prefix in arrays:
        return np.asarray(arrays[prefix])
    items = {key[len(prefix) + 1:]: np.asarray(arrays[key]) for key in arrays if key.startswith(prefix + "/")}
    if not items:
        raise KeyError(prefix)
    if all(key.isdigit() for key in items):
        return [items[str(i)] for i in range(len(items))]
    return items


def stateless_copy_rates(model) -> None:
    """Zero the rates of the random layers so a training step is deterministic in every framework."""
    for layer in _all_layers(model):
        for attr in ("rate", "stddev"):
            if hasattr(layer, attr) and isinstance(getattr(layer, attr), float):
                setattr(layer, attr, 0.0)


def _all_layers(model):
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _all_layers(layer)
