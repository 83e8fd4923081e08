"""keras.io / tensorflow.org "Working with RNNs" and "Understanding masking & padding" guides.

`Embedding` -> `LSTM` -> `Dense`; `GRU(return_sequences=True)` feeding `SimpleRNN`; `return_state=True` states
used as another LSTM's `initial_state` (an encoder-decoder); `Bidirectional`; an `RNN` layer around an
`LSTMCell`; `pad_sequences` with `Embedding(mask_zero=True)` and a `Masking` layer, the mask read with
`compute_mask` / `_keras_mask` and honoured by the LSTM (padded steps change nothing); a masked model trained to
detect a token in variable-length sequences; stateful cross-batch RNNs with `reset_states`.
"""

import numpy as np
from program_data import token_sequences

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers


def test_rnn_layers_shapes_and_states():
    tf.keras.utils.set_random_seed(0)
    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    model.add(layers.LSTM(128))
    model.add(layers.Dense(10))
    out = model(np.random.default_rng(0).integers(0, 1000, (2, 7)))
    assert out.shape == (2, 10)
    assert model.layers[1].count_params() == 4 * (128 * (64 + 128) + 128)

    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    model.add(layers.GRU(256, return_sequences=True))
    model.add(layers.SimpleRNN(128))
    model.add(layers.Dense(10))
    assert model(np.ones((3, 5), "int32")).shape == (3, 10)
    # Keras's GRU defaults to reset_after=True: two bias rows.
    assert model.layers[1].count_params() == 3 * (256 * (64 + 256)) + 2 * 3 * 256

    encoder_vocab, decoder_vocab = 1000, 2000
    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(encoder_input)
    output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(encoder_embedded)
    encoder_state = [state_h, state_c]
    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64, name="decoder_embedding")(
        decoder_input)
    decoder_output = layers.LSTM(64, name="decoder")(decoder_embedded, initial_state=encoder_state)
    output = layers.Dense(10)(decoder_output)
    model = keras.Model([encoder_input, decoder_input], output)
    enc = np.random.default_rng(0).integers(0, encoder_vocab, (4, 6))
    dec = np.random.default_rng(1).integers(0, decoder_vocab, (4, 3))
    assert model.predict([enc, dec], verbose=0).shape == (4, 10)
    # The decoder really starts from the encoder's final state.
    h, c = keras.Model(encoder_input, encoder_state).predict(enc, verbose=0)
    embedded = model.get_layer("decoder_embedding")(dec)
    decoded = model.get_layer("decoder")(embedded, initial_state=[tf.constant(h), tf.constant(c)])
    np.testing.assert_allclose(model.layers[-1](decoded).numpy(), model.predict([enc, dec], verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(model.get_layer("decoder")(embedded).numpy(), decoded.numpy(), atol=1e-4)

    model = keras.Sequential()
    model.add(layers.Bidirectional(layers.LSTM(64, return_sequences=True), input_shape=(5, 10)))
    model.add(layers.Bidirectional(layers.LSTM(32)))
    model.add(layers.Dense(10))
    assert model.output_shape == (None, 10)
    assert model.layers[0].output_shape == (None, 5, 128)
    assert model.layers[1].count_params() == 2 * 4 * (32 * (128 + 32) + 32)

    # RNN(LSTMCell) computes what LSTM computes with the same weights.
    x = np.random.default_rng(2).normal(size=(3, 6, 8)).astype("float32")
    lstm = layers.LSTM(16)
    rnn = layers.RNN(layers.LSTMCell(16))
    expected = lstm(x)
    rnn(x)
    rnn.set_weights(lstm.get_weights())
    np.testing.assert_allclose(rnn(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_masking_and_padding():
    raw_inputs = [
        [711, 632, 71],
        [73, 8, 3215, 55, 927],
        [83, 91, 1, 645, 1253, 927],
    ]
    padded_inputs = tf.keras.utils.pad_sequences(raw_inputs, padding="post")
    np.testing.assert_array_equal(padded_inputs, [[711, 632, 71, 0, 0, 0], [73, 8, 3215, 55, 927, 0],
                                                  [83, 91, 1, 645, 1253, 927]])
    assert tf.keras.utils.pad_sequences(raw_inputs)[0].tolist() == [0, 0, 0, 711, 632, 71]

    embedding = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)
    masked_output = embedding(padded_inputs)
    expected_mask = padded_inputs != 0
    np.testing.assert_array_equal(np.asarray(masked_output._keras_mask), expected_mask)
    np.testing.assert_array_equal(np.asarray(embedding.compute_mask(padded_inputs)), expected_mask)

    masking_layer = layers.Masking()
    unmasked_embedding = tf.cast(tf.tile(tf.expand_dims(padded_inputs, axis=-1), [1, 1, 10]), tf.float32)
    masked_embedding = masking_layer(unmasked_embedding)
    np.testing.assert_array_equal(np.asarray(masked_embedding._keras_mask), expected_mask)

    # In a model, the LSTM skips the padded steps: post-padding changes nothing in the output.
    tf.keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True)(inputs)
    outputs = layers.LSTM(32)(x)
    model = keras.Model(inputs, outputs)
    short = np.array([[711, 632, 71]])
    np.testing.assert_allclose(model.predict(padded_inputs[:1], verbose=0), model.predict(short, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_masked_model_learns_variable_length_sequences():
    tf.keras.utils.set_random_seed(0)
    sequences, labels = token_sequences(n=500, vocab=50, max_len=12)
    x = tf.keras.utils.pad_sequences(sequences, maxlen=12, padding="post")
    x_train, y_train, x_test, y_test = x[:400], labels[:400], x[400:], labels[400:]
    model = keras.Sequential([
        layers.Embedding(50, 8, mask_zero=True),
        layers.Bidirectional(layers.GRU(8)),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=8, batch_size=32, validation_split=0.1, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    # "does token 7 occur?": chance is 50 %; a recurrent net reading every step learns it.
    assert accuracy > 0.85, accuracy


def test_stateful_cross_batch_rnn():
    tf.keras.utils.set_random_seed(0)
    paragraph = np.random.default_rng(0).random((20, 30, 5)).astype("float32")
    lstm_layer = layers.LSTM(16, stateful=True)
    first = lstm_layer(paragraph[:, :10, :])
    lstm_layer(paragraph[:, 10:20, :])
    output = lstm_layer(paragraph[:, 20:, :])
    # Three chunks with carried state equal one pass over the whole sequence.
    whole = layers.LSTM(16)
    whole(paragraph)
    whole.set_weights(lstm_layer.get_weights())
    np.testing.assert_allclose(output.numpy(), whole(paragraph).numpy(), rtol=1e-4, atol=1e-5)
    lstm_layer.reset_states()
    np.testing.assert_allclose(lstm_layer(paragraph[:, :10, :]).numpy(), first.numpy(), rtol=1e-5, atol=1e-6)

    # States handed from one stateful layer to a new one.
    existing_state = lstm_layer.states
    new_lstm_layer = layers.LSTM(16)
    new_lstm_layer(paragraph[:, 10:20, :], initial_state=existing_state)
    assert [tuple(s.shape) for s in existing_state] == [(20, 16), (20, 16)]
