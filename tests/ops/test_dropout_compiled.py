"""Inverted dropout through its compiled kernels (``ops/_numba_dropout.py`` via ``ops/_dropout_compiled.py``):
the masks against an independent pure-Python hash, the keep rate within binomial tolerance, the exact rate
threshold, the mask reused by the backward, reproducibility under ``set_seed``, eager and compiled steps bit for
bit, and the NumPy path with the kernels off."""

import math

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow import keras
from featherflow.backend import random as backend_random
from featherflow.ops import _dropout_compiled, _kernels, array_kernels

pytestmark = pytest.mark.skipif(not _kernels.available(), reason="Numba is not installed: NumPy path only")

M32, M64 = (1 << 32) - 1, (1 << 64) - 1


@pytest.fixture(autouse=True)
def _kernels_on():
    """The kernels for every size; the mode found (``FEATHERFLOW_NUMBA=0``'s off included) comes back."""
    previous = _kernels._state["enabled"]
    _kernels.use_kernels(True)
    yield
    _kernels._state["enabled"] = previous


def _reference_bits24(size, seed):
    """The float32 kernel's 24-bit draws, in Python integers (lowbias32 of a Weyl sequence)."""
    low, high = seed & M32, seed >> 32
    out = []
    for i in range(size):
        z = (i * 0x9E3779B9 + low) & M32
        z ^= z >> 16
        z = (z * 0x7FEB352D) & M32
        z ^= high
        z ^= z >> 15
        z = (z * 0x846CA68B) & M32
        z ^= z >> 16
        out.append(z >> 8)
    return np.array(out, dtype=np.uint64)


def _reference_bits53(size, seed):
    """The float64 kernel's 53-bit draws, in Python integers (splitmix64's output of seed + (i + 1) * golden)."""
    out = []
    for i in range(size):
        z = (seed + (i + 1) * 0x9E3779B97F4A7C15) & M64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        out.append(z >> 11)
    return np.array(out, dtype=np.uint64)


def _seed_of_next_call(generator):
    """The 64-bit seed the next dropout call draws from ``generator`` (read on a copy of its state)."""
    copy = np.random.Generator(np.random.PCG64())
    copy.bit_generator.state = generator.bit_generator.state
    return int(copy.bit_generator.random_raw())


@pytest.mark.parametrize("dtype,bits", [("float32", 24), ("float64", 53)])
@pytest.mark.parametrize("rate", [0.1, 0.2, 0.5, 0.95])
def test_mask_and_output_match_an_independent_reference(dtype, bits, rate):
    generator = np.random.default_rng(5)
    x = random_array((7, 9), dtype=dtype, seed=2)  # an odd size
    seed = _seed_of_next_call(generator)
    out, mask = _dropout_compiled.apply_dropout(x, rate, generator)
    draws = (_reference_bits24 if bits == 24 else _reference_bits53)(x.size, seed)
    uniform = draws.astype(np.float64) / 2.0 ** bits  # exact: 24 or 53 bits
    keep = uniform >= float(np.dtype(dtype).type(rate))  # the NumPy path's comparison (rate in the data's dtype)
    scale = np.dtype(dtype).type(1.0 / (1.0 - rate))
    assert mask.dtype == out.dtype == np.dtype(dtype) and mask.shape == out.shape == x.shape
    np.testing.assert_array_equal(mask.reshape(-1), np.where(keep, scale, 0).astype(dtype))
    np.testing.assert_array_equal(out, x * mask)  # bit for bit NumPy's product


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5, 0.9])
def test_keep_rate_within_binomial_tolerance(dtype, rate):
    n = 400_000
    out, mask = _dropout_compiled.apply_dropout(np.ones(n, dtype), rate, np.random.default_rng(11))
    kept = np.count_nonzero(mask)
    std = math.sqrt(n * rate * (1 - rate))
    assert abs(kept - n * (1 - rate)) < 5 * std, (kept, n * (1 - rate), std)
    assert np.unique(mask).tolist() == [0.0, float(np.dtype(dtype).type(1 / (1 - rate)))]
    # neighbours are independent: both kept as often as a product of the rates says
    both = np.count_nonzero(mask[:-1] * mask[1:])
    p = (1 - rate) ** 2
    assert abs(both - (n - 1) * p) < 6 * math.sqrt(n * p * (1 - p))


def test_the_threshold_is_the_rate_exactly():
    # rate 0.25 is exactly 2**22 of 2**24 draws: a draw of exactly 2**22 is kept (>= rate), one below dropped
    step = _dropout_compiled.DropoutStep(0.25, None, np.float32)
    assert step.threshold == 1 << 22
    step = _dropout_compiled.DropoutStep(0.2, None, np.float32)
    assert step.threshold == math.ceil(float(np.float32(0.2)) * 2 ** 24)
    assert _dropout_compiled.DropoutStep(0.2, None, np.float64).threshold == math.ceil(0.2 * 2 ** 53)


def test_fresh_masks_every_call_and_reproducible_under_set_seed():
    x = np.ones((32, 128), np.float32)
    ff.random.set_seed(3)
    first = [_dropout_compiled.apply_dropout(x, 0.5)[1] for _ in range(2)]
    assert not np.array_equal(first[0], first[1])
    ff.random.set_seed(3)
    again = [_dropout_compiled.apply_dropout(x, 0.5)[1] for _ in range(2)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_the_layer_and_the_op_use_the_kernel_and_the_backward_reuses_its_mask():
    x = random_array((6, 10), dtype="float32", seed=4) + 2.0  # no zeros: a zero output means a dropped unit
    ff.random.set_seed(9)
    seed = _seed_of_next_call(backend_random.generator())
    layer = keras.layers.Dropout(0.3)
    variable = ff.Variable(x)
    with ff.GradientTape() as tape:
        out = layer(variable, training=True)
        total = ff.reduce_sum(out * np.arange(60, dtype=np.float32).reshape(6, 10))
    gradient = tape.gradient(total, variable).numpy()
    keep = _reference_bits24(x.size, seed).reshape(x.shape) >= math.ceil(float(np.float32(0.3)) * 2 ** 24)
    scale = np.float32(1 / 0.7)
    np.testing.assert_array_equal(out.numpy(), x * np.where(keep, scale, np.float32(0)))
    np.testing.assert_array_equal(gradient, np.arange(60, dtype=np.float32).reshape(6, 10) * np.where(keep, scale, 0))
    ff.random.set_seed(9)
    np.testing.assert_array_equal(ff.nn.dropout(x, 0.3).numpy(), out.numpy())  # the op draws the same way
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)  # inference: identity


def test_a_seeded_layer_draws_from_its_own_generator():
    x = np.ones((4, 50), np.float32)
    a = keras.layers.Dropout(0.5, seed=7)(x, training=True).numpy()
    b = keras.layers.Dropout(0.5, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    seed = _seed_of_next_call(backend_random.make_generator(7))
    keep = _reference_bits24(x.size, seed).reshape(x.shape) >= 1 << 23
    np.testing.assert_array_equal(a, np.where(keep, np.float32(2), np.float32(0)))


@pytest.mark.parametrize("noise_shape", [None, (5, 1)])
def test_gradient_check_with_a_fixed_seed(noise_shape):
    # float64 data: the 53-bit kernel (noise_shape: the NumPy path's broadcast mask)
    check_gradient(lambda t: ff.nn.dropout(t, 0.4, noise_shape=noise_shape, seed=11), [random_array((5, 4))])


def test_eager_and_compiled_steps_are_bit_identical_and_draw_fresh_masks():
    def model():
        keras.utils.set_random_seed(0)
        net = keras.Sequential([keras.Input((20,)), keras.layers.Dense(64, activation="relu"),
                                keras.layers.Dropout(0.2), keras.layers.Dense(3, activation="softmax")])
        net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return net

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(96, 20)).astype("float32"), rng.integers(0, 3, size=96)
    results = []
    for eager in (False, True):
        net = model()
        net.run_eagerly = eager
        history = net.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        results.append((history.history, net.get_weights()))
        if not eager:
            source = net._train_fn.function._traces.popitem()[1].program.source
            assert "dropout" in source and "random_random" not in source  # the kernel, as one host call
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_a_compiled_function_draws_fresh_masks_and_follows_the_kernel_switch():
    f = ff.function(lambda t: ff.nn.dropout(t, rate=0.5))
    x = ff.ones((1000,))
    a, b = f(x).numpy(), f(x).numpy()
    assert not np.array_equal(a, b) and set(np.unique(a)) <= {0.0, 2.0} and 400 < np.count_nonzero(a) < 600
    ff.random.set_seed(4)
    compiled = f(x).numpy()
    ff.random.set_seed(4)
    np.testing.assert_array_equal(compiled, ff.nn.dropout(x, rate=0.5).numpy())  # eager: the same draw
    _kernels.use_kernels(False)  # the traced program replays the NumPy path's draw, as eager code now does
    ff.random.set_seed(4)
    replayed = f(x).numpy()
    ff.random.set_seed(4)
    expected = array_kernels.dropout_mask(array_kernels.dropout_uniform(backend_random.generator(), (1000,),
                                                                        np.float32), 0.5, np.float32)
    np.testing.assert_array_equal(replayed, expected)
    ff.random.set_seed(4)
    np.testing.assert_array_equal(ff.nn.dropout(x, rate=0.5).numpy(), expected)


def test_non_contiguous_and_unsupported_inputs():
    x = random_array((8, 6), dtype="float32", seed=3).T  # a transposed view: the kernel reads a contiguous copy
    generator = np.random.default_rng(2)
    seed = _seed_of_next_call(generator)
    out, mask = _dropout_compiled.apply_dropout(x, 0.5, generator)
    keep = _reference_bits24(x.size, seed).reshape(x.shape) >= 1 << 23
    np.testing.assert_array_equal(mask, np.where(keep, np.float32(2), np.float32(0)))
    np.testing.assert_array_equal(out, x * mask)
    assert _dropout_compiled.compiled_dropout(np.ones(3, np.float16)) is None  # float16: the NumPy path
    assert _dropout_compiled.compiled_dropout(np.ones(0, np.float32)) is None
    _kernels.use_kernels(False)
    assert _dropout_compiled.compiled_dropout(np.ones(3, np.float32)) is None


def test_the_default_mode_decides_by_size_alone():
    """Whether a dropout uses the kernel never depends on what the process ran before (a worker process draws
    the masks its parent would): small inputs keep the NumPy path even with the kernels loaded."""
    _kernels.use_kernels(None)
    _kernels._compiled()  # loaded (by another op, say)
    small = np.ones((4, 6), np.float32)
    assert _dropout_compiled.compiled_dropout(small) is None
    assert _dropout_compiled.compiled_dropout(np.ones((32, 128), np.float32)) is not None
    keras.utils.set_random_seed(7)
    out = keras.layers.Dropout(0.25)(small, training=True).numpy()
    keras.utils.set_random_seed(7)
    expected = array_kernels.dropout_mask(array_kernels.dropout_uniform(backend_random.generator(), small.shape,
                                                                        small.dtype), 0.25, small.dtype)
    np.testing.assert_array_equal(out, small * expected)
