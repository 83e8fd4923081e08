"""conv ops against a direct float64 loop implementation, plus finite-difference gradients."""

import numpy as np
import pytest
from conv_reference import reference_conv2d, reference_conv2d_transpose
from gradcheck import check_gradient, random_array

import featherflow as ff
from featherflow.ops.conv import conv2d_fused
from featherflow.ops.conv_variants import conv2d_transpose_fused, depthwise_conv2d_fused

CASES = [
    ((2, 5, 6, 3), (3, 3, 3, 4), (1, 1), "VALID", (1, 1)),
    ((2, 5, 6, 3), (3, 3, 3, 4), (1, 1), "SAME", (1, 1)),
    ((1, 7, 7, 2), (3, 2, 2, 3), (2, 2), "SAME", (1, 1)),
    ((1, 8, 7, 2), (2, 3, 2, 2), (3, 2), "VALID", (1, 1)),
    ((2, 7, 7, 1), (3, 3, 1, 2), (1, 1), "SAME", (2, 2)),
    ((1, 6, 6, 2), (1, 1, 2, 3), (1, 1), "VALID", (1, 1)),
    ((1, 6, 6, 2), (1, 1, 2, 3), (2, 2), "SAME", (1, 1)),
    ((2, 4, 5, 2), (2, 2, 2, 2), (1, 1), ((1, 0), (2, 1)), (1, 1)),
]


@pytest.mark.parametrize("xs,ws,strides,padding,dil", CASES)
def test_conv2d_matches_reference(xs, ws, strides, padding, dil):
    x, w = random_array(xs, seed=1), random_array(ws, seed=2)
    pad_arg = padding if isinstance(padding, str) else [[0, 0], list(padding[0]), list(padding[1]), [0, 0]]
    out = ff.nn.conv2d(x, w, strides=list(strides), padding=pad_arg, dilations=list(dil)).numpy()
    np.testing.assert_allclose(out, reference_conv2d(x, w, strides, padding, dil), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("xs,ws,strides,padding,dil", CASES)
def test_conv2d_gradient(xs, ws, strides, padding, dil):
    pad_arg = padding if isinstance(padding, str) else [[0, 0], list(padding[0]), list(padding[1]), [0, 0]]
    check_gradient(lambda x, w: ff.nn.conv2d(x, w, strides, pad_arg, dilations=dil),
                   [random_array(xs, seed=1), random_array(ws, seed=2)])


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh"])
def test_conv2d_fused_bias_activation(activation):
    x, w, b = random_array((2, 5, 5, 2), seed=3), random_array((3, 3, 2, 3), seed=4), random_array((3,), seed=5)
    z = reference_conv2d(x, w, (1, 1), "SAME") + b
    ref = {None: z, "relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z)), "tanh": np.tanh(z)}[activation]
    out = conv2d_fused(x, w, b, activation, (1, 1), "SAME", (1, 1)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    check_gradient(lambda x, w, b: conv2d_fused(x, w, b, activation, (2, 1), "SAME", (1, 1)), [x, w, b])


def test_conv2d_float32_and_nchw():
    x, w = random_array((2, 3, 6, 5), seed=1, dtype="float32"), random_array((3, 3, 3, 2), seed=2, dtype="float32")
    out = ff.nn.conv2d(x, w, [1, 1, 1, 1], "SAME", data_format="NCHW")
    assert out.dtype == np.float32 and out.shape == (2, 2, 6, 5)
    ref = reference_conv2d(x.transpose(0, 2, 3, 1).astype("float64"), w.astype("float64"), (1, 1), "SAME")
    np.testing.assert_allclose(out.numpy(), ref.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)


def test_conv2d_zero_batch_and_errors():
    out = ff.nn.conv2d(np.zeros((0, 4, 4, 1)), np.ones((2, 2, 1, 3)), 1, "VALID")
    assert out.shape == (0, 3, 3, 3)
    with pytest.raises(ValueError, match="input depth"):
        ff.nn.conv2d(np.zeros((1, 4, 4, 2)), np.ones((2, 2, 1, 3)), 1, "VALID")
    with pytest.raises(ValueError, match="<= 0"):
        ff.nn.conv2d(np.zeros((1, 2, 2, 1)), np.ones((3, 3, 1, 1)), 1, "VALID")
    with pytest.raises(ValueError, match="padding"):
        ff.nn.conv2d(np.zeros((1, 4, 4, 1)), np.ones((2, 2, 1, 1)), 1, "FULL")


@pytest.mark.parametrize("stride,padding,dil", [(1, "VALID", 1), (2, "SAME", 1), (1, "SAME", 2), (3, "VALID", 1)])
def test_conv1d(stride, padding, dil):
    x, w = random_array((2, 9, 3), seed=1), random_array((3, 3, 4), seed=2)
    out = ff.nn.conv1d(x, w, stride, padding, dilations=dil).numpy()
    ref = reference_conv2d(x[:, None], w[None], (1, stride), padding, (1, dil))[:, 0]
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    check_gradient(lambda x, w: ff.nn.conv1d(x, w, stride, padding, dilations=dil), [x, w])


@pytest.mark.parametrize("xs,ws,out_hw,strides,padding", [
    ((2, 3, 3, 2), (3, 3, 4, 2), (7, 7), (2, 2), "VALID"),
    ((1, 3, 4, 2), (3, 3, 2, 2), (6, 8), (2, 2), "SAME"),
    ((1, 4, 4, 1), (2, 2, 3, 1), (5, 5), (1, 1), "VALID"),
    ((1, 3, 3, 2), (3, 3, 1, 2), (10, 10), (3, 3), "VALID"),
    ((1, 3, 3, 2), (3, 3, 1, 2), (5, 5), (2, 2), "SAME"),
])
def test_conv2d_transpose(xs, ws, out_hw, strides, padding):
    x, w = random_array(xs, seed=1), random_array(ws, seed=2)
    out_shape = (xs[0],) + out_hw + (ws[2],)
    out = ff.nn.conv2d_transpose(x, w, out_shape, list(strides), padding).numpy()
    np.testing.assert_allclose(out, reference_conv2d_transpose(x, w, out_hw, strides, padding), rtol=1e-10,
                               atol=1e-12)
    check_gradient(lambda x, w: ff.nn.conv2d_transpose(x, w, out_shape, list(strides), padding), [x, w])


def test_conv2d_transpose_is_conv_input_gradient():
    x, w = random_array((1, 7, 7, 2), seed=1), random_array((3, 3, 2, 3), seed=2)
    g = random_array((1, 4, 4, 3), seed=3)
    xt = ff.constant(x)
    with ff.GradientTape() as tape:
        tape.watch(xt)
        y = ff.nn.conv2d(xt, w, 2, "SAME")
    gx = tape.gradient(y, xt, output_gradients=g).numpy()
    np.testing.assert_allclose(ff.nn.conv2d_transpose(g, w, x.shape, 2, "SAME").numpy(), gx, rtol=1e-10)


def test_conv2d_transpose_fused_bias_and_errors():
    x, w, b = random_array((1, 3, 3, 2), seed=1), random_array((2, 2, 3, 2), seed=2), random_array((3,), seed=3)
    check_gradient(lambda x, w, b: conv2d_transpose_fused(x, w, b, "tanh", (6, 6), (2, 2), "VALID"), [x, w, b])
    with pytest.raises(ValueError, match="does not map back"):
        ff.nn.conv2d_transpose(x, w, (1, 20, 20, 3), 2, "VALID")


@pytest.mark.parametrize("strides,padding,dil", [((1, 1), "VALID", (1, 1)), ((2, 2), "SAME", (1, 1)),
                                                 ((1, 1), "SAME", (2, 2))])
def test_depthwise_conv2d(strides, padding, dil):
    x, w = random_array((2, 6, 5, 3), seed=1), random_array((3, 3, 3, 2), seed=2)
    out = ff.nn.depthwise_conv2d(x, w, [1, *strides, 1], padding, dilations=dil).numpy()
    ref = np.concatenate([reference_conv2d(x[..., c:c + 1], w[:, :, c:c + 1, :], strides, padding, dil)
                          for c in range(3)], axis=-1)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    check_gradient(lambda x, w: ff.nn.depthwise_conv2d(x, w, [1, *strides, 1], padding, dilations=dil), [x, w])
    b = random_array((6,), seed=3)
    check_gradient(lambda x, w, b: depthwise_conv2d_fused(x, w, b, "relu", strides, padding, dil), [x, w, b])


def test_workspace_reuse_is_safe_across_recorded_calls():
    # two recorded calls of the same shape must not share the im2col buffer
    w = ff.Variable(random_array((3, 3, 2, 2), seed=2))
    x1, x2 = random_array((2, 5, 5, 2), seed=3), random_array((2, 5, 5, 2), seed=4)
    with ff.GradientTape() as tape:
        y = ff.reduce_sum(ff.nn.conv2d(x1, w, 1, "SAME")) + 2.0 * ff.reduce_sum(ff.nn.conv2d(x2, w, 1, "SAME"))
    g = tape.gradient(y, w).numpy()
    with ff.GradientTape() as tape:
        y1 = ff.reduce_sum(ff.nn.conv2d(x1, w, 1, "SAME"))
    g1 = tape.gradient(y1, w).numpy()
    with ff.GradientTape() as tape:
        y2 = ff.reduce_sum(ff.nn.conv2d(x2, w, 1, "SAME"))
    g2 = tape.gradient(y2, w).numpy()
    np.testing.assert_allclose(g, g1 + 2 * g2, rtol=1e-12)


@pytest.mark.parametrize("workers", [1, 3])
def test_threaded_batch_split_matches_single_thread(monkeypatch, workers):
    """Large enough to split across threads: results must be identical to the unsplit computation."""
    import featherflow.ops.conv_utils as conv_module

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 30, 30, 8)).astype("float32")
    w = rng.standard_normal((3, 3, 8, 4)).astype("float32")
    b = rng.standard_normal(4).astype("float32")

    def run():
        xt, wt, bt = ff.constant(x), ff.Variable(w), ff.Variable(b)
        with ff.GradientTape() as tape:
            tape.watch(xt)
            y = conv2d_fused(xt, wt, bt, "relu", (1, 1), "SAME", (1, 1))
            p = ff.nn.max_pool2d(y, 2, 2, "VALID")
            total = ff.reduce_sum(p * p)
        grads = tape.gradient(total, [xt, wt, bt])
        return [p.numpy()] + [g.numpy() for g in grads]

    monkeypatch.setitem(conv_module._THREADS, "workers", 1)
    reference = run()
    monkeypatch.setitem(conv_module._THREADS, "workers", workers)
    monkeypatch.setattr(conv_module, "PARALLEL_MIN_WORK", 1)
    for a, b_ in zip(run(), reference):
        np.testing.assert_array_equal(a, b_)


def test_batch_threads_work_in_a_forked_child(monkeypatch):
    """A process forked after the thread pool exists must not wait on the parent's (absent) threads."""
    import multiprocessing

    import featherflow.ops.conv_utils as conv_module

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    monkeypatch.setitem(conv_module._THREADS, "workers", 2)
    monkeypatch.setattr(conv_module, "PARALLEL_MIN_WORK", 1)
    x = np.random.default_rng(0).standard_normal((4, 6, 6, 2)).astype("float32")
    w = np.ones((3, 3, 2, 1), "float32")
    expected = ff.nn.conv2d(x, w, 1, "VALID").numpy()  # creates the pool in this process
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=lambda: queue.put(ff.nn.conv2d(x, w, 1, "VALID").numpy()))
    child.start()
    result = queue.get(timeout=60)
    child.join(timeout=60)
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("strides,padding,dil", [((1, 1), "VALID", (1, 1)), ((2, 1), "SAME", (1, 1)),
                                                 ((1, 2), "SAME", (2, 1)), ((3, 2), ((1, 2), (0, 1)), (1, 2))])
def test_single_channel_transposed_patch_matrix(strides, padding, dil):
    """One input channel builds the patch matrix transposed (runs of ``wo`` numbers): same values and
    gradients as the reference, with and without the bias column, float64 gradcheck."""
    x, w, b = random_array((3, 7, 8, 1), seed=6), random_array((3, 2, 1, 4), seed=7), random_array((4,), seed=8)
    z = reference_conv2d(x, w, strides, padding, dil)
    np.testing.assert_allclose(conv2d_fused(x, w, None, None, strides, padding, dil).numpy(), z, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(conv2d_fused(x, w, b, "relu", strides, padding, dil).numpy(), np.maximum(z + b, 0),
                               rtol=1e-10, atol=1e-12)
    check_gradient(lambda x, w, b: conv2d_fused(x, w, b, "tanh", strides, padding, dil), [x, w, b])


@pytest.mark.parametrize("strides,padding,dil", [((1, 1), "VALID", (1, 1)), ((2, 2), "SAME", (1, 1)),
                                                 ((1, 1), "SAME", (2, 2)), ((2, 1), ((2, 0), (1, 1)), (1, 1))])
def test_input_gradient_per_kernel_position_matches_transposed_reference(strides, padding, dil):
    """The input gradient (one GEMM block per kernel position, scatter-added) equals the adjoint of the
    reference convolution, checked against a float64 loop (<dX, x> = <dY, conv(x)> for every x)."""
    x, w = random_array((2, 6, 7, 3), seed=1), random_array((3, 2, 3, 5), seed=2)
    xt = ff.constant(x)
    with ff.GradientTape() as tape:
        tape.watch(xt)
        y = conv2d_fused(xt, w, None, None, strides, padding, dil)
    dy = random_array(y.shape, seed=3)
    gx = tape.gradient(y, xt, output_gradients=dy).numpy()
    # column k of the adjoint: the response of <dy, conv(e_k)> to the unit input e_k
    expected = np.zeros(x.size)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = 1.0
        expected[k] = np.sum(dy * reference_conv2d(e.reshape(x.shape), w, strides, padding, dil))
    np.testing.assert_allclose(gx.ravel(), expected, rtol=1e-10, atol=1e-12)


def test_float32_conv_matches_float64_reference_at_the_cnn_shapes():
    """The benchmark CNN's layer shapes in float32 (transposed patch matrix for the 1-channel input,
    per-position input gradient for the 32-channel one) against float64 references."""
    x1 = random_array((4, 28, 28, 1), seed=1, dtype="float32")
    w1, b1 = random_array((3, 3, 1, 8), seed=2, dtype="float32"), random_array((8,), seed=3, dtype="float32")
    out1 = conv2d_fused(x1, w1, b1, "relu", (1, 1), "VALID", (1, 1)).numpy()
    ref1 = np.maximum(reference_conv2d(x1.astype("float64"), w1.astype("float64")) + b1, 0)
    np.testing.assert_allclose(out1, ref1, rtol=1e-5, atol=1e-5)
    x2, w2 = random_array((4, 13, 13, 8), seed=4, dtype="float32"), random_array((3, 3, 8, 6), seed=5, dtype="float32")
    xt = ff.constant(x2)
    with ff.GradientTape() as tape:
        tape.watch(xt)
        y = conv2d_fused(xt, w2, None, None, (1, 1), "VALID", (1, 1))
    dy = random_array(y.shape, seed=6, dtype="float32")
    gx = tape.gradient(y, xt, output_gradients=dy).numpy()
    ref = np.zeros(x2.shape)
    for i in range(3):
        for j in range(3):
            ref[:, i:i + 11, j:j + 11, :] += np.einsum("bhwo,co->bhwc", dy.astype("float64"), w2[i, j].astype("float64"))
    assert gx.dtype == np.float32
    np.testing.assert_allclose(gx, ref, rtol=1e-4, atol=1e-4)


def test_pooled_outputs_and_gradients_are_not_overwritten_while_held():
    """Outputs, input gradients and max-pool results come from reused buffers: a result someone still
    holds (here a NumPy array from ``.numpy()`` and a Tensor) must survive later calls of the same shape."""
    w = random_array((3, 3, 2, 4), seed=1, dtype="float32")
    xs = [random_array((2, 8, 8, 2), seed=s, dtype="float32") for s in (2, 3)]
    held, grads = [], []
    for x in xs:
        xt = ff.constant(x)
        with ff.GradientTape() as tape:
            tape.watch(xt)
            y = conv2d_fused(xt, w, None, "relu", (1, 1), "VALID", (1, 1))
            p = ff.nn.max_pool2d(y, 2, 2, "VALID")
        held.append((y.numpy(), p))
        grads.append(tape.gradient(p, xt, output_gradients=np.ones(p.shape, "float32")).numpy())
    for x, (y, p), gx in zip(xs, held, grads):
        ref = np.maximum(reference_conv2d(x.astype("float64"), w.astype("float64")), 0)
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(p.numpy(), ref.reshape(2, 3, 2, 3, 2, 4).max(axis=(2, 4)), rtol=1e-5, atol=1e-5)
        # d(sum of pooled)/dx recomputed from scratch for this x
        xt = ff.constant(x)
        with ff.GradientTape() as tape:
            tape.watch(xt)
            again = ff.nn.max_pool2d(conv2d_fused(xt, w, None, "relu", (1, 1), "VALID", (1, 1)), 2, 2, "VALID")
        np.testing.assert_array_equal(gx, tape.gradient(again, xt, output_gradients=np.ones(again.shape,
                                                                                           "float32")).numpy())


@pytest.fixture
def chunked_rows(monkeypatch):
    """Force the row-chunked GEMM + ReLU paths (normally taken on one BLAS thread) with small chunks."""
    import featherflow.ops.conv as conv_module

    monkeypatch.setattr(conv_module, "_single_thread_blas", lambda: True)
    monkeypatch.setattr(conv_module, "_ROW_CHUNK_BYTES", 64 * 8)  # 64 rows: several chunks, a ragged last one
    return conv_module


@pytest.mark.parametrize("bias,strides,padding,c", [(True, (1, 1), "VALID", 1), (True, (1, 1), "SAME", 3),
                                                     (False, (2, 1), "SAME", 2), (True, (1, 2), "VALID", 4)])
def test_row_chunked_relu_conv_matches_reference_and_gradcheck(chunked_rows, bias, strides, padding, c):
    x, w, b = random_array((3, 9, 10, c), seed=1), random_array((3, 3, c, 5), seed=2), random_array((5,), seed=3)
    bb = b if bias else None
    z = reference_conv2d(x, w, strides, padding) + (b if bias else 0)
    out = conv2d_fused(x, w, bb, "relu", strides, padding, (1, 1))
    np.testing.assert_allclose(out.numpy(), np.maximum(z, 0), rtol=1e-10, atol=1e-12)
    # the chunked backward: relu mask, accumulated weight gradient and per-position input blocks
    xt, wt = ff.constant(x), ff.Variable(w)
    bt = ff.Variable(b) if bias else None
    with ff.GradientTape() as tape:
        tape.watch(xt)
        y = conv2d_fused(xt, wt, bt, "relu", strides, padding, (1, 1))
    dy = random_array(y.shape, seed=4)
    grads = tape.gradient(y, [xt, wt] + ([bt] if bias else []), output_gradients=dy)
    chunked_rows._ROW_CHUNK_BYTES = 1 << 40  # one whole GEMM: the unchunked path's numbers
    with ff.GradientTape() as tape:
        tape.watch(xt)
        y = conv2d_fused(xt, wt, bt, "relu", strides, padding, (1, 1))
    for got, want in zip(grads, tape.gradient(y, [xt, wt] + ([bt] if bias else []), output_gradients=dy)):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
    chunked_rows._ROW_CHUNK_BYTES = 64 * 8
    args = [x, w, b] if bias else [x, w]
    check_gradient(lambda *a: conv2d_fused(a[0], a[1], a[2] if bias else None, "relu", strides, padding, (1, 1)),
                   args)


def test_row_chunked_float32_first_layer_weight_gradient(chunked_rows):
    """The small CNN's first layer (1 channel, transposed patch matrix, no input gradient) in float32 with
    the chunked backward against a float64 reference of dW = sum over pixels of patch * dz."""
    x = random_array((4, 12, 12, 1), seed=5, dtype="float32")
    w, b = random_array((3, 3, 1, 6), seed=6, dtype="float32"), random_array((6,), seed=7, dtype="float32")
    wt, bt = ff.Variable(w), ff.Variable(b)
    with ff.GradientTape() as tape:
        y = conv2d_fused(x, wt, bt, "relu", (1, 1), "VALID", (1, 1))
    dy = random_array(y.shape, seed=8, dtype="float32")
    gw, gb = tape.gradient(y, [wt, bt], output_gradients=dy)
    z = reference_conv2d(x.astype("float64"), w.astype("float64")) + b
    dz = dy * (z > 0)
    ref_w = np.zeros((3, 3, 1, 6))
    for i in range(3):
        for j in range(3):
            ref_w[i, j, 0] = np.einsum("bhw,bhwo->o", x[:, i:i + 10, j:j + 10, 0].astype("float64"), dz)
    np.testing.assert_allclose(gw.numpy(), ref_w, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gb.numpy(), dz.sum(axis=(0, 1, 2)), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("size", [10, 70_000, 2 * 65_536 + 3])
def test_blocked_relu_is_bitwise_np_maximum(size):
    """The in-place ReLU against a zeros block (fast path) equals ``np.maximum(z, 0)`` bit for bit,
    including NaN, infinities and signed zeros, for sizes below, across and off the block size."""
    from featherflow.ops.array_kernels import relu_inplace

    for dtype in ("float32", "float64"):
        z = np.random.default_rng(size).standard_normal(size).astype(dtype)
        z[:4] = [np.nan, -np.inf, np.inf, -0.0]
        expected = np.maximum(z, 0)
        relu_inplace(z, np)
        np.testing.assert_array_equal(z.view(f"u{z.itemsize}"), expected.view(f"u{z.itemsize}"))


def test_compiled_steps_after_a_convolution_get_fixed_buffers():
    # a convolution's output shape follows from its input's: the compiled program plans result buffers for the
    # elementwise steps that use it (and may fuse them), as after any NumPy call, with the eager values
    x = random_array((2, 6, 6, 3), dtype="float32", seed=1)
    w = ff.Variable(random_array((3, 3, 3, 4), dtype="float32", seed=2))
    wt = ff.Variable(random_array((2, 2, 5, 4), dtype="float32", seed=3))

    def step(x):
        y = ff.nn.conv2d(x, w, 1, "SAME")
        y = ff.nn.conv2d_transpose(y * 2.0 + 1.0, wt, (2, 12, 12, 5), 2, "SAME")
        return ff.maximum(y * 0.5, 0.0)

    compiled = ff.function(step)
    np.testing.assert_allclose(compiled(x).numpy(), step(x).numpy(), rtol=1e-6, atol=1e-6)
    program = compiled.get_concrete_function(ff.constant(x)).graph
    assert not any(s.dynamic for s in program.steps)
    elementwise = [line for line in program.source.splitlines() if "multiply(" in line or "maximum(" in line]
    assert len(elementwise) == 3 and all("out=" in line for line in elementwise)
    np.testing.assert_allclose(compiled(x + 1.0).numpy(), step(x + 1.0).numpy(), rtol=1e-6, atol=1e-6)


# from 16 input channels (conv2d's input gradient) or output channels (conv2d_transpose) the col2im runs as one
# GEMM added straight into the unpadded result (ops/_conv_col2im.py): odd sizes, strides 1-3, SAME/VALID/explicit
# padding, dilation; the Numba kernel and the NumPy loop (FEATHERFLOW_NUMBA=0 / use_kernels(False)) both
WIDE_CASES = [
    ((2, 7, 7, 16), (4, 4, 16, 5), (2, 2), "SAME", (1, 1)),
    ((1, 9, 8, 17), (3, 3, 17, 3), (1, 1), "SAME", (1, 1)),
    ((1, 10, 9, 16), (3, 2, 16, 2), (3, 2), "VALID", (1, 1)),
    ((1, 9, 9, 16), (3, 3, 16, 2), (1, 1), "SAME", (2, 2)),
    ((1, 6, 7, 16), (2, 3, 16, 2), (2, 1), ((2, 1), (0, 3)), (1, 1)),
]


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("xs,ws,strides,padding,dil", WIDE_CASES)
def test_conv2d_input_gradient_with_many_channels(xs, ws, strides, padding, dil, compiled):
    from featherflow.ops import _kernels

    pad_arg = padding if isinstance(padding, str) else [[0, 0], list(padding[0]), list(padding[1]), [0, 0]]
    x, w = random_array(xs, seed=1), random_array(ws, seed=2)
    _kernels.use_kernels(compiled)
    try:
        out = ff.nn.conv2d(x, w, list(strides), pad_arg, dilations=list(dil)).numpy()
        np.testing.assert_allclose(out, reference_conv2d(x, w, strides, padding, dil), rtol=1e-10, atol=1e-12)
        check_gradient(lambda x, w: ff.nn.conv2d(x, w, strides, pad_arg, dilations=dil), [x, w])
        g = random_array(out.shape, seed=3)
        xt = ff.constant(x)
        with ff.GradientTape() as tape:
            tape.watch(xt)
            y = ff.nn.conv2d(xt, w, list(strides), pad_arg, dilations=list(dil))
        gx = tape.gradient(y, xt, output_gradients=g).numpy()
    finally:
        _kernels.use_kernels(None)
    # the input gradient by its definition: each output's gradient sent back through the kernel taps
    if padding == "VALID":
        pt = pl = 0
    elif padding == "SAME":
        pt, pl = (_same_before(xs[1 + a], ws[a], strides[a], dil[a]) for a in range(2))
    else:
        pt, pl = padding[0][0], padding[1][0]
    ref = np.zeros(xs)
    for r in range(out.shape[1]):
        for s in range(out.shape[2]):
            for i in range(ws[0]):
                for j in range(ws[1]):
                    row, col = r * strides[0] + i * dil[0] - pt, s * strides[1] + j * dil[1] - pl
                    if 0 <= row < xs[1] and 0 <= col < xs[2]:
                        ref[:, row, col, :] += g[:, r, s, :] @ w[i, j].T
    np.testing.assert_allclose(gx, ref, rtol=1e-10, atol=1e-12)


def _same_before(size, k, stride, dilation):
    eff = (k - 1) * dilation + 1
    out = -(-size // stride)
    return max((out - 1) * stride + eff - size, 0) // 2


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("xs,ws,out_hw,strides,padding", [
    ((2, 7, 7, 8), (4, 4, 16, 8), (14, 14), (2, 2), "SAME"),
    ((1, 3, 4, 3), (3, 3, 17, 3), (7, 9), (2, 2), "VALID"),
    ((1, 4, 3, 2), (3, 2, 16, 2), (11, 7), (3, 3), "SAME"),
    ((1, 5, 5, 2), (3, 3, 16, 2), (5, 5), (1, 1), "SAME"),
])
def test_conv2d_transpose_with_many_output_channels(xs, ws, out_hw, strides, padding, compiled):
    from featherflow.ops import _kernels

    x, w = random_array(xs, seed=1), random_array(ws, seed=2)
    out_shape = (xs[0],) + out_hw + (ws[2],)
    _kernels.use_kernels(compiled)
    try:
        out = ff.nn.conv2d_transpose(x, w, out_shape, list(strides), padding).numpy()
        check_gradient(lambda x, w: ff.nn.conv2d_transpose(x, w, out_shape, list(strides), padding), [x, w])
    finally:
        _kernels.use_kernels(None)
    np.testing.assert_allclose(out, reference_conv2d_transpose(x, w, out_hw, strides, padding), rtol=1e-10,
                               atol=1e-12)
