"""Builders for the scikit-learn wrapper tests (module level: joblib worker processes import them)."""


def mlp_classifier(meta, hidden=32):
    from featherflow import keras

    return keras.Sequential([
        keras.Input(shape=(meta["n_features_in_"],)),
        keras.layers.Dense(hidden, activation="relu"),
        keras.layers.Dense(meta["n_classes_"], activation="softmax"),
    ])


def binary_sigmoid(meta, hidden=16):
    from featherflow import keras

    model = keras.Sequential([keras.Input(shape=(meta["n_features_in_"],)),
                              keras.layers.Dense(hidden, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    return model


def mlp_regressor(meta, hidden=16):
    from featherflow import keras

    return keras.Sequential([keras.Input(shape=(meta["n_features_in_"],)),
                             keras.layers.Dense(hidden, activation="relu"),
                             keras.layers.Dense(meta["n_outputs_"])])


def compiled_classifier(meta):
    """Compiles itself (Adam 0.03): the wrapper needs no routed parameters, as check_estimator requires."""
    from featherflow import keras

    model = mlp_classifier(meta, hidden=32)
    model.compile(optimizer=keras.optimizers.Adam(0.03), loss="sparse_categorical_crossentropy")
    return model


def compiled_regressor(meta):
    from featherflow import keras

    model = mlp_regressor(meta, hidden=32)
    model.compile(optimizer=keras.optimizers.Adam(0.03), loss="mse")
    return model


def classifier_without_input(meta, hidden=8):
    """No keras.Input: the model is built by its first call (in fit), so a fresh build has no weights yet."""
    from featherflow import keras

    return keras.Sequential([keras.layers.Dense(hidden, activation="relu"),
                             keras.layers.Dense(meta["n_classes_"], activation="softmax")])
