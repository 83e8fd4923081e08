"""keras.io / tensorflow.org "The Functional API" guide.

A functional MLP on digits (Input, layer calls, `Model(inputs, outputs, name=...)`, summary, fit/evaluate, save and
reload), an encoder/decoder autoencoder where models are used as layers (Conv2D, GlobalMaxPooling2D, Reshape,
Conv2DTranspose, UpSampling2D), an ensemble of models, the multi-input/multi-output "ticket" model (Embedding, LSTM,
concatenate, losses and loss weights given as lists and as dicts keyed by output name), a toy ResNet with
`layers.add`, a shared Embedding layer, feature extraction from `layer.output`, and a custom layer with
`get_config` used in a functional model rebuilt by `from_config`.
"""

import numpy as np
from program_data import mnist_sample

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers


def test_mlp_on_digits_and_save(tmp_path):
    tf.keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(784,))
    assert inputs.shape.as_list() == [None, 784] and inputs.dtype == tf.float32
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    assert model.name == "mnist_model"
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "mnist_model"' in text and model.count_params() == 55050

    (x_train, y_train), (x_test, y_test) = mnist_sample(1500, 500)
    x_train = x_train.reshape(1500, 784).astype("float32") / 255
    x_test = x_test.reshape(500, 784).astype("float32") / 255
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, validation_split=0.2, verbose=0)
    assert len(history.history["val_accuracy"]) == 3
    test_scores = model.evaluate(x_test, y_test, verbose=0)
    assert test_scores[1] > 0.8, test_scores  # real digits, 1,200 training images

    model.save(tmp_path / "my_model.keras")
    del model
    model = keras.models.load_model(tmp_path / "my_model.keras")
    np.testing.assert_allclose(model.evaluate(x_test, y_test, verbose=0), test_scores, rtol=1e-5)


def test_models_as_layers_autoencoder_and_ensemble():
    tf.keras.utils.set_random_seed(0)
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    assert encoder.output_shape == (None, 8)
    assert [layer.output_shape for layer in encoder.layers[1:4]] == [(None, 26, 26, 8), (None, 24, 24, 16),
                                                                     (None, 8, 8, 16)]

    decoder_input = keras.Input(shape=(8,), name="encoded_img")
    x = layers.Reshape((2, 2, 2))(decoder_input)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu")(x)
    x = layers.UpSampling2D(4)(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    decoder = keras.Model(decoder_input, decoder_output, name="decoder")
    assert decoder.output_shape == (None, 28, 28, 1)

    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
    assert [layer.name for layer in autoencoder.layers] == ["img", "encoder", "decoder"]
    assert autoencoder.count_params() == encoder.count_params() + decoder.count_params()
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(autoencoder.predict(images, verbose=0), decoder(encoder(images)).numpy(),
                               rtol=1e-5, atol=1e-6)

    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1, model2, model3 = get_model(), get_model(), get_model()
    inputs = keras.Input(shape=(128,))
    y1, y2, y3 = model1(inputs), model2(inputs), model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
    data = np.random.default_rng(1).random((5, 128)).astype("float32")
    expected = (model1.predict(data, verbose=0) + model2.predict(data, verbose=0) + model3.predict(data, verbose=0))
    np.testing.assert_allclose(ensemble_model.predict(data, verbose=0), expected / 3, rtol=1e-5, atol=1e-6)


def make_tickets(n, num_words, num_tags, rng):
    title = rng.integers(1, num_words, size=(n, 10))
    body = rng.integers(1, num_words, size=(n, 20))
    tags = rng.integers(0, 2, size=(n, num_tags)).astype("float32")
    # Priority follows the tags; the department is decided by which third of the vocabulary the title starts in.
    priority = (tags[:, :3].sum(axis=1, keepdims=True) / 3).astype("float32")
    department = np.eye(4, dtype="float32")[np.minimum(title[:, 0] * 4 // num_words, 3)]
    return title, body, tags, priority, department


def test_multi_input_multi_output_ticket_model():
    tf.keras.utils.set_random_seed(0)
    num_tags, num_words, num_departments = 6, 200, 4
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 16)(title_input)
    body_features = layers.Embedding(num_words, 16)(body_input)
    title_features = layers.LSTM(16)(title_features)
    body_features = layers.LSTM(8)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    model = keras.Model(inputs=[title_input, body_input, tags_input], outputs=[priority_pred, department_pred])
    assert model.output_names == ["priority", "department"]

    title, body, tags, priority, department = make_tickets(600, num_words, num_tags, np.random.default_rng(0))
    model.compile(optimizer=keras.optimizers.RMSprop(1e-2),
                  loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy(from_logits=True)],
                  loss_weights=[1.0, 0.2])
    first = model.evaluate([title, body, tags], [priority, department], verbose=0)
    assert len(first) == 3  # total, priority_loss, department_loss
    np.testing.assert_allclose(first[0], first[1] + 0.2 * first[2], rtol=1e-5)

    # The same with dicts keyed by the Input / output layer names.
    model.compile(optimizer=keras.optimizers.RMSprop(1e-2),
                  loss={"priority": keras.losses.MeanSquaredError(),
                        "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
                  loss_weights={"priority": 1.0, "department": 0.2})
    history = model.fit({"title": title, "body": body, "tags": tags},
                        {"priority": priority, "department": department}, epochs=6, batch_size=32, verbose=0)
    h = history.history
    assert set(h) == {"loss", "priority_loss", "department_loss"}
    np.testing.assert_allclose(h["loss"][-1], h["priority_loss"][-1] + 0.2 * h["department_loss"][-1], rtol=1e-4)
    assert h["priority_loss"][-1] < 0.5 * first[1]
    priority_out, department_out = model.predict({"title": title, "body": body, "tags": tags}, verbose=0)
    assert priority_out.shape == (600, 1) and department_out.shape == (600, 4)
    # The department is a function of the first title word: the LSTM reads it (chance: 25 %).
    assert np.mean(department_out.argmax(1) == department.argmax(1)) > 0.6


def test_toy_resnet_shared_layers_feature_extraction():
    tf.keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(16, 16, 3), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    block_1_output = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.GlobalAveragePooling2D()(block_2_output)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(3)(x)
    model = keras.Model(inputs, outputs, name="toy_resnet")
    add_layer = model.get_layer(index=5)
    assert type(add_layer).__name__ == "Add" and len(add_layer.input) == 2

    rng = np.random.default_rng(0)
    x_train = rng.random((96, 16, 16, 3)).astype("float32")
    y_train = np.argmax(x_train.mean(axis=(1, 2)), axis=1)  # the brightest colour channel
    model.compile(optimizer=keras.optimizers.RMSprop(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["acc"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=8, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    assert history.history["loss"][-1] < history.history["loss"][0]

    # One Embedding shared by two inputs: one set of weights, two nodes.
    shared_embedding = layers.Embedding(1000, 8)
    text_input_a = keras.Input(shape=(None,), dtype="int32")
    text_input_b = keras.Input(shape=(None,), dtype="int32")
    encoded_input_a = shared_embedding(text_input_a)
    encoded_input_b = shared_embedding(text_input_b)
    two_inputs = keras.Model([text_input_a, text_input_b], [encoded_input_a, encoded_input_b])
    assert len(two_inputs.trainable_weights) == 1
    a, b = two_inputs.predict([np.array([[3, 4]]), np.array([[4, 3]])], verbose=0)
    np.testing.assert_array_equal(a[0, ::-1], b[0])

    # Feature extraction: a model returning every intermediate activation of another.
    features_list = [layer.output for layer in model.layers]
    feat_extraction_model = keras.Model(inputs=model.input, outputs=features_list)
    features = feat_extraction_model(x_train[:2])
    assert len(features) == len(model.layers)
    np.testing.assert_allclose(features[-1].numpy(), model(x_train[:2]).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(features[0].numpy(), x_train[:2])
    np.testing.assert_allclose(features[5].numpy(), features[4].numpy() + features[2].numpy(), rtol=1e-6)
    intermediate = keras.Model(model.inputs, model.get_layer(index=2).output)
    np.testing.assert_allclose(intermediate(x_train[:2]).numpy(), features[2].numpy(), rtol=1e-6)


@keras.utils.register_keras_serializable(package="programs")
class CustomDense(layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


def test_custom_layer_in_functional_model_round_trips():
    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)
    model = keras.Model(inputs, outputs)
    config = model.get_config()
    new_model = keras.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
    assert isinstance(new_model.layers[1], CustomDense) and new_model.layers[1].units == 10
    new_model.set_weights(model.get_weights())
    data = np.arange(8, dtype="float32").reshape(2, 4)
    w, b = model.get_weights()
    np.testing.assert_allclose(new_model.predict(data, verbose=0), data @ w + b, rtol=1e-5, atol=1e-6)
