import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.ops import attention_block
from featherflow.ops.attention import packed_self_attention
from featherflow.ops.attention_block import projected_self_attention

HEADS, KEY_DIM, VALUE_DIM = 2, 3, 4
WIDTH = HEADS * (2 * KEY_DIM + VALUE_DIM)


def _case(seed=0, b=3, t=5, e=4, dtype="float64"):
    rng = np.random.default_rng(seed)
    x = random_array((b, t, e), seed=seed).astype(dtype)
    kernel = (rng.standard_normal((e, WIDTH)) * 0.5).astype(dtype)
    bias = (rng.standard_normal(WIDTH) * 0.1).astype(dtype)
    mask = rng.random((b, 1, t, t)) > 0.3
    drop = ((rng.random((b, HEADS, t, t)) > 0.25) / 0.75).astype(dtype)
    return x, kernel, bias, mask, drop


def _run(fn, arrays, scores):
    variables = [ff.Variable(a) for a in arrays]
    with ff.GradientTape() as tape:
        out = fn(*variables)
        outs = list(out) if scores else [out]
        loss = sum(ff.reduce_sum(o * np.cos(np.arange(o.size)).reshape(o.shape).astype(o.numpy().dtype))
                   for o in outs)
    return [o.numpy() for o in outs] + [g.numpy() for g in tape.gradient(loss, variables)]


@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.parametrize("options", [False, True])
@pytest.mark.parametrize("with_bias", [False, True])
def test_equals_dense_then_packed_attention_and_finite_differences(scores, options, with_bias):
    """The op's values and gradients are those of ``x @ kernel + bias`` followed by ``packed_self_attention``;
    float64 central differences agree for x, kernel and bias."""
    x, kernel, bias, mask, drop = _case(seed=1)
    mask, drop = (mask, drop) if options else (None, None)
    kwargs = dict(mask=mask, dropout_mask=drop, scale=0.6, return_scores=scores)

    def fused(a, w, b=None):
        return projected_self_attention(a, w, b, HEADS, KEY_DIM, VALUE_DIM, **kwargs)

    def composed(a, w, b=None):
        projected = ff.matmul(a, w) + b if b is not None else ff.matmul(a, w)
        return packed_self_attention(projected, HEADS, KEY_DIM, VALUE_DIM, **kwargs)

    arrays = [x, kernel, bias] if with_bias else [x, kernel]
    for got, want in zip(_run(fused, arrays, scores), _run(composed, arrays, scores)):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)
    check_gradient(fused, arrays)


@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.parametrize("with_bias", [False, True])
def test_output_projection_equals_a_product_after_the_attention(scores, with_bias):
    """With ``output_kernel`` (and ``output_bias``) the op's values and gradients are those of the attention
    followed by ``reshape`` and a product; float64 central differences agree for every input."""
    x, kernel, bias, mask, drop = _case(seed=7)
    rng = np.random.default_rng(9)
    out_kernel = rng.standard_normal((HEADS * VALUE_DIM, 6)) * 0.4
    out_bias = rng.standard_normal(6) * 0.1
    kwargs = dict(mask=mask, dropout_mask=drop, scale=0.6, return_scores=scores)

    def fused(a, w, b, wo, bo=None):
        return projected_self_attention(a, w, b, HEADS, KEY_DIM, VALUE_DIM, output_kernel=wo, output_bias=bo,
                                        **kwargs)

    def composed(a, w, b, wo, bo=None):
        result = packed_self_attention(ff.matmul(a, w) + b, HEADS, KEY_DIM, VALUE_DIM, **kwargs)
        attended = result[0] if scores else result
        final = ff.matmul(ff.reshape(attended, (3, 5, HEADS * VALUE_DIM)), wo)
        final = final + bo if bo is not None else final
        return (final, result[1]) if scores else final

    arrays = [x, kernel, bias, out_kernel] + ([out_bias] if with_bias else [])
    got_all, want_all = _run(fused, arrays, scores), _run(composed, arrays, scores)
    assert got_all[0].shape == (3, 5, 6)
    for got, want in zip(got_all, want_all):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)
    check_gradient(fused, arrays)


@pytest.mark.parametrize("parts", [2, 3])
def test_threads_and_chunks_do_not_change_results(parts, monkeypatch):
    """Rows split over threads give bit-identical float32 results; the kernel gradient sums a fixed number of
    chunk products (``reduction_chunks``), not one per thread."""
    from featherflow.backend import blas

    monkeypatch.setattr(attention_block, "use_threads_for", lambda macs: blas.use_threads_for(0))
    arrays = list(_case(seed=4, b=6, t=40, e=8, dtype="float32")[:3])
    arrays += [np.random.default_rng(3).standard_normal((HEADS * VALUE_DIM, 8)).astype("float32"),
               np.full(8, 0.1, "float32")]
    monkeypatch.setattr(attention_block, "reduction_chunks", lambda batch: 2)

    def fused(a, w, b, wo, bo):
        return projected_self_attention(a, w, b, HEADS, KEY_DIM, VALUE_DIM, output_kernel=wo, output_bias=bo)

    monkeypatch.setattr(attention_block, "split_parts", lambda n, work, xp: 1)
    want = _run(fused, arrays, False)
    monkeypatch.setattr(attention_block, "split_parts", lambda n, work, xp: parts)
    for got, expected in zip(_run(fused, arrays, False), want):
        np.testing.assert_array_equal(got, expected)


def test_chunk_count_follows_the_full_thread_count_and_the_batch(monkeypatch):
    monkeypatch.setattr(attention_block, "full_threads", lambda: 2)
    assert attention_block.reduction_chunks(32) == 2
    assert attention_block.reduction_chunks(1) == 1
    monkeypatch.setattr(attention_block, "full_threads", lambda: 1)
    assert attention_block.reduction_chunks(32) == 1


def test_only_needed_gradients():
    x, kernel, bias, _, _ = _case(seed=2)
    w = ff.Variable(kernel)
    with ff.GradientTape() as tape:
        loss = ff.reduce_sum(projected_self_attention(ff.constant(x), w, ff.constant(bias), HEADS, KEY_DIM,
                                                      VALUE_DIM))
    assert tape.gradient(loss, w).shape == kernel.shape


def test_errors():
    x, kernel, bias, _, _ = _case()
    with pytest.raises(ValueError, match=r"kernel \[E, num_heads"):
        projected_self_attention(x, kernel[:, :-1], None, HEADS, KEY_DIM, VALUE_DIM)
    with pytest.raises(ValueError, match="bias"):
        projected_self_attention(x, kernel, bias[:-1], HEADS, KEY_DIM, VALUE_DIM)
    with pytest.raises(ValueError, match="output_kernel"):
        projected_self_attention(x, kernel, None, HEADS, KEY_DIM, VALUE_DIM, output_kernel=np.ones((7, 2)))
    with pytest.raises(ValueError, match="needs an output_kernel"):
        projected_self_attention(x, kernel, None, HEADS, KEY_DIM, VALUE_DIM, output_bias=np.ones(2))
    with pytest.raises(TypeError, match="one dtype"):
        projected_self_attention(x.astype("float32"), kernel, None, HEADS, KEY_DIM, VALUE_DIM)
    with pytest.raises(ValueError, match="does not broadcast"):
        projected_self_attention(x, kernel, None, HEADS, KEY_DIM, VALUE_DIM, mask=np.ones((2, 7), bool))


@pytest.fixture
def two_threads():
    """The default thread policy on two threads (tests/conftest.py pins the suite to one), restored after."""
    from featherflow.backend import blas

    if blas.initial_threads() < 2:
        pytest.skip("OpenBLAS started with one thread here")
    saved_user, saved_deterministic = blas._state["user"], blas._state["deterministic"]
    blas.set_load_adaptive(False)
    blas.set_user_threads(None)
    yield blas
    blas.set_deterministic(saved_deterministic)
    blas.set_load_adaptive(True)
    blas.set_user_threads(saved_user)


def _seeded_attention_fit():
    from featherflow import keras

    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 128, 8)).astype("float32")  # 1M scores a batch: split over the threads
    y = rng.integers(0, 2, 64)
    inputs = keras.Input(shape=(128, 8))
    hidden = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8, dropout=0.1)(inputs, inputs)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling1D()(hidden))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    return model.get_weights()


def test_seeded_attention_fits_are_bit_identical_with_op_determinism(two_threads, monkeypatch):
    from featherflow.backend import devices

    monkeypatch.setitem(devices._state, "determinism", False)  # restored after the test
    ff.config.experimental.enable_op_determinism()
    assert attention_block.reduction_chunks(32) == two_threads.initial_threads()
    for a, b in zip(_seeded_attention_fit(), _seeded_attention_fit()):
        np.testing.assert_array_equal(a, b)


def test_one_intra_op_thread_runs_one_chunk_on_one_thread(two_threads, monkeypatch):
    import threading

    ff.config.threading.set_intra_op_parallelism_threads(1)
    assert attention_block.reduction_chunks(32) == 1
    names = set()
    forward_rows = attention_block.forward_rows

    def watched(*args):
        *arrays, run = forward_rows(*args)

        def run_and_record(start, stop):
            names.add(threading.current_thread().name)
            run(start, stop)

        return (*arrays, run_and_record)

    monkeypatch.setattr(attention_block, "forward_rows", watched)
    x, kernel, bias, _, _ = _case(seed=5, b=32, t=128, e=8, dtype="float32")  # 1M scores: threads pay
    with two_threads.managed():
        projected_self_attention(x, kernel, bias, HEADS, KEY_DIM, VALUE_DIM)
    assert names == {threading.current_thread().name}
