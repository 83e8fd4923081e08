"""A compiled ``fit`` step picks BLAS's thread count before each large product at every call, as eager code does
(``backend/blas.py``'s policy), instead of running every replay with the count left over from the trace."""

import numpy as np

from featherflow import keras
from featherflow.ops import array_kernels


def test_large_dense_products_choose_their_threads_at_every_compiled_call(monkeypatch):
    calls = []
    choose = array_kernels.use_threads_for
    monkeypatch.setattr(array_kernels, "use_threads_for", lambda macs: (calls.append(macs), choose(macs))[1])
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.random((32 * 6, 784), dtype=np.float32), rng.integers(0, 3, 32 * 6)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert model._train_fn.compiled
    trace = next(iter(model._train_fn.function._traces.values()))
    code = trace.program.source
    assert code.count("(802816)") == 2  # host calls before the first layer's forward and weight-gradient products
    calls.clear()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    large = [macs for macs in calls if macs == 32 * 784 * 32]
    assert len(large) == 2 * 6  # two large products in each of the 6 compiled steps
