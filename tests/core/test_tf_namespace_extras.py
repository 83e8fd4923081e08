"""tf-level names: tf.sets, the TypeSpec family, tf.audio, tf.conv, tf.variable_creator_scope,
tf.fingerprint, tf.nondifferentiable_batch_function, tf.gradients/hessians (refused eagerly, as in TF)."""

import io
import wave

import numpy as np
import pytest
from gradcheck import check_gradient, random_array

import featherflow as ff


def _dense(sparse, default=0):
    return ff.sparse.to_dense(sparse, default_value=default).numpy()


# -- tf.sets -------------------------------------------------------------------------------------------------------
def test_set_operations_on_dense_rows():
    a = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    b = [[[1, 5], [3, 3]], [[5, 5], [9, 0]]]
    inter = ff.sets.intersection(a, b)
    np.testing.assert_array_equal(inter.indices.numpy(), [[0, 0, 0], [0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(inter.values.numpy(), [1, 3, 5])
    np.testing.assert_array_equal(inter.dense_shape.numpy(), [2, 2, 1])
    b_minus_a = ff.sets.difference(a, b, aminusb=False)
    np.testing.assert_array_equal(_dense(b_minus_a, -1), [[[5, -1], [-1, -1]], [[-1, -1], [0, 9]]])
    union = ff.sets.union([[3, 1, 1]], [[2, 3, 0]])
    np.testing.assert_array_equal(union.values.numpy(), [0, 1, 2, 3])
    assert union.values.dtype == "int32" and union.indices.dtype == "int64"


def test_set_operations_with_sparse_operands_and_size():
    sp = ff.SparseTensor([[0, 0], [0, 1], [1, 0]], ff.constant([3, 1, 2]), [2, 3])
    np.testing.assert_array_equal(ff.sets.size(sp).numpy(), [2, 1])
    union = ff.sets.union(sp, [[1, 1, 9], [0, 0, 0]])
    np.testing.assert_array_equal(_dense(union, -1), [[1, 3, 9], [0, 2, -1]])
    diff = ff.sets.difference([[1, 1, 9], [0, 0, 0]], sp)
    np.testing.assert_array_equal(diff.values.numpy(), [9, 0])
    strings = ff.sets.intersection([["a", "b"]], [["b", "c"]])
    assert strings.values.numpy().tolist() == [b"b"]


def test_set_errors_follow_tensorflow():
    with pytest.raises(TypeError, match="invalid dtype"):
        ff.sets.intersection([[1.0, 2.0]], [[1.0]])
    with pytest.raises(ff.errors.InvalidArgumentError, match="rank 1 < 2"):
        ff.sets.intersection([1, 2], [[1, 2]])
    with pytest.raises(ff.errors.InvalidArgumentError, match=r"Mismatched shapes \[1\] vs \[2\]"):
        ff.sets.intersection([[1, 2]], [[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="Types don't match"):
        ff.sets.union(ff.constant([[1]], "int64"), ff.constant([[1]]))
    with pytest.raises(TypeError, match="Expected `SparseTensor`"):
        ff.sets.size(ff.constant([[1, 2]]))


# -- TypeSpec ------------------------------------------------------------------------------------------------------
def test_type_spec_from_value_kinds():
    assert ff.type_spec_from_value(ff.constant([1, 2])) == ff.TensorSpec([2], "int32")
    assert ff.type_spec_from_value(ff.SparseTensor([[0, 0]], [1.0], [2, 3])) == ff.SparseTensorSpec([2, 3])
    ragged = ff.type_spec_from_value(ff.RaggedTensor.from_row_splits(ff.constant([1, 2, 3]), [0, 1, 3]))
    assert isinstance(ragged, ff.RaggedTensorSpec) and ragged.ragged_rank == 1 and ragged.shape == (2, None)
    rows = ff.type_spec_from_value(ff.IndexedSlices(ff.ones((2, 3)), ff.constant([0, 1]), ff.constant([5, 3])))
    assert rows == ff.IndexedSlicesSpec([5, 3], "float32", "int32", "int32", [2])
    assert ff.type_spec_from_value(ff.TensorArray("float32", size=2)) == ff.TensorArraySpec(None, "float32")
    assert ff.type_spec_from_value(None) == ff.NoneTensorSpec()
    assert ff.type_spec_from_value([1.0, 2.0]) == ff.TensorSpec([2], "float32")
    with pytest.raises(TypeError, match="Could not build a TypeSpec"):
        ff.type_spec_from_value({"a": 1})
    assert all(isinstance(s, ff.TypeSpec) for s in (ff.TensorSpec([]), ff.SparseTensorSpec(), ff.NoneTensorSpec()))


def test_type_spec_comparisons():
    spec = ff.SparseTensorSpec([None, 3])
    assert spec.is_compatible_with(ff.SparseTensor([[0, 0]], [1.0], [7, 3]))
    assert not spec.is_compatible_with(ff.SparseTensor([[0, 0]], [1.0], [7, 4]))
    assert not spec.is_compatible_with(ff.SparseTensorSpec([None, 3], "int32"))
    assert ff.SparseTensorSpec([2, 3]).is_subtype_of(spec) and not spec.is_subtype_of(ff.SparseTensorSpec([2, 3]))
    assert spec.most_specific_common_supertype([ff.SparseTensorSpec([2, 4])]) == ff.SparseTensorSpec([None, None])
    assert spec.most_specific_common_supertype([ff.RaggedTensorSpec([2, None])]) is None
    with pytest.raises(ValueError, match="No TypeSpec"):
        spec.most_specific_compatible_type(ff.SparseTensorSpec([None, 3], "int64"))
    assert len({spec, ff.SparseTensorSpec([None, 3])}) == 1
    assert ff.RaggedTensorSpec([2, None, None, 3]).ragged_rank == 3
    with pytest.raises(ValueError, match="ragged_rank"):
        ff.RaggedTensorSpec()
    assert repr(ff.OptionalSpec(ff.TensorSpec([], "float32"))) == \
        "OptionalSpec(TensorSpec(shape=(), dtype=tf.float32, name=None),)"


# -- tf.audio ------------------------------------------------------------------------------------------------------
def test_encode_wav_writes_16_bit_pcm():
    audio = np.array([[0.0, 0.5], [-1.0, 1.0], [0.25, -0.3], [2.0, -2.0]], "float32")
    data = ff.audio.encode_wav(audio, 8000).numpy()
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        pcm = np.frombuffer(wav.readframes(4), "<i2")
    np.testing.assert_array_equal(pcm, [0, 16384, -32768, 32767, 8192, -9830, 32767, -32768])  # x * 32768, clipped
    decoded, rate = ff.audio.decode_wav(ff.constant(data))
    assert int(rate) == 8000 and rate.dtype == "int32"
    np.testing.assert_allclose(decoded.numpy(), pcm.reshape(4, 2) / 32768.0)


def test_decode_wav_channels_and_samples():
    data = ff.audio.encode_wav([[0.5, -0.25], [0.125, 0.75]], 16000)
    three = ff.audio.decode_wav(data, desired_channels=3)[0].numpy()
    np.testing.assert_allclose(three, [[0.5, -0.25, -0.25], [0.125, 0.75, 0.75]])  # the last channel repeats
    np.testing.assert_allclose(ff.audio.decode_wav(data, desired_channels=1)[0].numpy(), [[0.5], [0.125]])
    padded = ff.audio.decode_wav(data, desired_samples=3)[0].numpy()
    np.testing.assert_allclose(padded, [[0.5, -0.25], [0.125, 0.75], [0.0, 0.0]])
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(bytes([128, 200]))
    with pytest.raises(ff.errors.InvalidArgumentError, match="16-bit"):
        ff.audio.decode_wav(buffer.getvalue())
    with pytest.raises(ff.errors.InvalidArgumentError, match="2-dimensional"):
        ff.audio.encode_wav([0.5, 0.1], 16000)


# -- tf.conv ---------------------------------------------------------------------------------------------------------
def test_conv_groups_and_channels_first():
    x, w = random_array((2, 5, 5, 4), seed=1), random_array((3, 3, 2, 6), seed=2)
    grouped = ff.conv(x, w, [1, 1, 1, 1], "SAME", groups=2).numpy()
    halves = [ff.nn.conv2d(x[..., 2 * g:2 * g + 2], w[..., 3 * g:3 * g + 3], 1, "SAME").numpy() for g in range(2)]
    np.testing.assert_allclose(grouped, np.concatenate(halves, axis=-1), rtol=1e-12)
    first = ff.conv(x.transpose(0, 3, 1, 2)[:, :2], w[:, :, :2], [1, 1, 1, 2], "VALID",
                    data_format="CHANNELS_FIRST").numpy()
    want = ff.nn.conv2d(x[..., :2], w[:, :, :2], [1, 1, 2, 1], "VALID").numpy()
    np.testing.assert_allclose(first, want.transpose(0, 3, 1, 2), rtol=1e-12)
    with pytest.raises(ff.errors.InvalidArgumentError, match="2 or 3 spatial dimensions"):
        ff.conv(random_array((1, 5, 2)), random_array((2, 2, 3)), [1, 1, 1], "VALID")


def test_conv_gradients():
    check_gradient(lambda a, b: ff.conv(a, b, [1, 1, 1, 1], "EXPLICIT", explicit_paddings=[0, 0, 1, 0, 0, 2, 0, 0],
                                        groups=2),
                   [random_array((1, 4, 4, 4), seed=3), random_array((2, 2, 2, 4), seed=4)])
    check_gradient(lambda a, b: ff.conv(a, b, [1, 1, 2, 2], "SAME", data_format="CHANNELS_FIRST", batch_dims=1),
                   [random_array((1, 2, 5, 5), seed=5), random_array((3, 3, 2, 2), seed=6)])


# -- variable_creator_scope ----------------------------------------------------------------------------------------
def test_variable_creator_scope_chains_innermost_first():
    calls = []

    def outer(next_creator, **kwargs):
        calls.append(("outer", kwargs["name"]))
        kwargs["trainable"] = False
        return next_creator(**kwargs)

    def inner(next_creator, **kwargs):
        calls.append(("inner", kwargs["name"]))
        assert {"initial_value", "dtype", "shape", "validate_shape", "synchronization"} <= set(kwargs)
        kwargs["name"] = "renamed"
        return next_creator(**kwargs)

    with ff.variable_creator_scope(outer), ff.variable_creator_scope(inner):
        v = ff.Variable([1.0, 2.0], name="v")
    assert calls == [("inner", "v"), ("outer", "renamed")]
    assert v.name == "renamed" and not v.trainable
    assert ff.Variable(1.0, name="plain").name == "plain"  # outside the scopes
    with ff.variable_creator_scope(lambda next_creator, **kwargs: "replaced"):
        assert ff.Variable(3.0) == "replaced"


# -- fingerprint, batch function, ragged_fill_empty_rows, gradients ----------------------------------------------------
def test_fingerprint_of_string_rows():
    got = ff.fingerprint(ff.constant([["abc", "d"], ["x", "yz"]])).numpy()
    # TensorFlow 2.21's values: a row of strings is fingerprinted by its strings' fingerprints
    np.testing.assert_array_equal(got, [[42, 36, 211, 10, 152, 245, 170, 130], [251, 108, 238, 192, 97, 7, 143, 214]])
    single = ff.fingerprint(ff.constant(["abc"])).numpy()
    np.testing.assert_array_equal(single, [[105, 243, 231, 116, 160, 179, 165, 36]])
    assert single.dtype == np.uint8


def test_nondifferentiable_batch_function():
    @ff.nondifferentiable_batch_function(1, 4, 100)
    def square(a):
        return a * a

    x = ff.constant([1.0, 3.0])
    with ff.GradientTape() as tape:
        tape.watch(x)
        y = square(x)
    np.testing.assert_allclose(y.numpy(), [1.0, 9.0])
    assert tape.gradient(y, x) is None
    with pytest.raises(ValueError, match="supposed to be Tensors"):
        square(ff.Variable([1.0]))


def test_ragged_fill_empty_rows_gradient():
    rowids = ff.constant([0, 0, 3], "int64")
    check_gradient(lambda v, d: ff.ragged_fill_empty_rows(rowids, v, 5, d).output_values,
                   [random_array((3,), seed=7), np.array(0.5)])


def test_graph_gradients_are_refused_eagerly():
    for fn in (ff.gradients, ff.hessians):
        with pytest.raises(RuntimeError, match="Use tf.GradientTape instead"):
            fn(ff.constant(1.0), ff.constant(2.0))


# -- small remaining names -------------------------------------------------------------------------------------------
def test_enums_and_quantized_dtypes():
    assert ff.AggregationMethod.ADD_N == ff.AggregationMethod.DEFAULT == 0
    assert ff.VariableAggregation.MEAN.value == 2 and ff.VariableAggregation.ONLY_FIRST_REPLICA.value == 3
    assert ff.VariableSynchronization.ON_READ.value == 3 and ff.VariableSynchronization.AUTO.value == 0
    sizes = {ff.qint8: 1, ff.quint8: 1, ff.qint16: 2, ff.quint16: 2, ff.qint32: 4}
    assert {dtype.itemsize for dtype in sizes} == {1, 2, 4} and all(d.itemsize == n for d, n in sizes.items())
    assert ff.dtypes.qint16 is ff.qint16 and ff.dtypes.quint8 in ff.dtypes.QUANTIZED_DTYPES
    assert {ff.dtypes.qint32, ff.dtypes.quint16} <= ff.dtypes.QUANTIZED_DTYPES


def test_v2_initializer_names():
    np.testing.assert_array_equal(ff.ones_initializer()((2,)).numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(ff.zeros_initializer()((2,)).numpy(), [0.0, 0.0])
    np.testing.assert_allclose(ff.random_normal_initializer(mean=3.0, stddev=0.0)((2,)).numpy(), [3.0, 3.0])
    drawn = ff.random_uniform_initializer(minval=2.0, maxval=3.0, seed=1)((100,)).numpy()
    assert drawn.min() >= 2.0 and drawn.max() < 3.0


def test_config_device_functions():
    cpus = ff.config.list_physical_devices("CPU")
    ff.config.set_visible_devices(cpus)
    assert ff.config.get_visible_devices("CPU") == cpus
    ff.config.set_soft_device_placement(True)
    assert ff.config.get_soft_device_placement()
    assert ff.config.LogicalDevice("/device:CPU:0", "CPU") in ff.config.list_logical_devices()
    ff.config.run_functions_eagerly(True)
    try:
        assert ff.config.experimental_functions_run_eagerly()
    finally:
        ff.config.run_functions_eagerly(False)
    assert not ff.config.experimental_functions_run_eagerly()


def _circulant_dense(spectrum):
    """The matrix of x -> ifftn(spectrum * fftn(x)) over the flattened block, column by column."""
    shape, size = spectrum.shape, spectrum.size
    columns = [np.fft.ifftn(spectrum * np.fft.fftn(np.eye(size)[k].reshape(shape))).reshape(-1) for k in range(size)]
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("kind,shape", [("LinearOperatorCirculant2D", (2, 3)), ("LinearOperatorCirculant3D", (2, 2, 2))])
def test_circulant_2d_3d_match_their_fft_definition(kind, shape):
    spectrum = np.fft.fftn(random_array(shape, seed=30))  # a real kernel's spectrum (Hermitian)
    operator = getattr(ff.linalg, kind)(ff.constant(spectrum), input_output_dtype="complex128")
    np.testing.assert_allclose(operator.to_dense().numpy(), _circulant_dense(spectrum), atol=1e-12)
    x = random_array((spectrum.size, 2), seed=31).astype("complex128")
    np.testing.assert_allclose(operator.matmul(ff.constant(x)).numpy(), _circulant_dense(spectrum) @ x, atol=1e-12)


def test_linear_operator_is_the_base_of_every_operator():
    class Doubling(ff.linalg.LinearOperator):
        def __init__(self, n):
            super().__init__(dtype="float64", is_self_adjoint=True)
            self._n = n

        def _shape(self):
            return (self._n, self._n)

        def _to_dense(self):
            return ff.constant(2.0 * np.eye(self._n))

    operator = Doubling(3)
    assert isinstance(operator, ff.linalg.LinearOperator) and operator.shape == (3, 3)
    np.testing.assert_allclose(operator.matmul(ff.constant(np.ones((3, 1)))).numpy(), 2 * np.ones((3, 1)))
    assert issubclass(ff.linalg.LinearOperatorCirculant2D, ff.linalg.LinearOperator)
