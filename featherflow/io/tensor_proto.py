"""``TensorProto`` (``tensorflow/core/framework/tensor.proto``): ``tf.io.serialize_tensor`` / ``parse_tensor``,
the sparse-tensor serializations and ``tf.make_tensor_proto`` / ``tf.make_ndarray``.

``serialize_tensor`` writes the bytes TensorFlow writes (numeric tensors as ``tensor_content``, strings as
``string_val``); ``parse_tensor`` reads those and the ``*_val`` forms (``make_tensor_proto``'s), where a
short value list is filled out with its last value, as in TensorFlow.

>>> serialize_tensor([1.0, 2.0]).numpy().hex()
'080112041202080222080000803f00000040'
>>> parse_tensor(serialize_tensor([[1, 2]]), "int32").numpy()
array([[1, 2]], dtype=int32)
"""

from __future__ import annotations

import base64

import numpy as np

from featherflow.core.dtypes import _ENUM, as_dtype
from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor, convert_to_tensor
from featherflow.core.tensor_spec import STRING
from featherflow.io.proto import DecodeError, Field, Message

_ENUM_OF = {dtype: number for number, dtype in _ENUM.items()}
_TF_NAMES = {np.dtype("float32"): "float", np.dtype("float64"): "double", np.dtype("float16"): "half", STRING: "string"}


def tf_type_name(dtype) -> str:
    """TensorFlow's ``DataTypeString``: ``float``, ``double``, ``half``, ``string``, else the dtype's name."""
    dtype = np.dtype(dtype)
    return _TF_NAMES.get(dtype, dtype.names[0] if dtype.names else dtype.name)


_DT_NAMES = {number: "DT_" + {"float": "FLOAT", "double": "DOUBLE", "half": "HALF", "string": "STRING"}.get(
    tf_type_name(dtype), tf_type_name(dtype).upper()) for number, dtype in _ENUM.items()}


class TensorShapeProto(Message):
    """A tensor's shape: ``repeated Dim dim = 2; bool unknown_rank = 3``."""

    class Dim(Message):
        FIELDS = (Field(1, "size", "int64"), Field(2, "name", "string"))

    FIELDS = (Field(2, "dim", Dim, repeated=True), Field(3, "unknown_rank", "bool"))


class TensorProto(Message):
    """A tensor: dtype, shape, and its values as ``tensor_content`` bytes or a typed value list."""

    FIELDS = (Field(1, "dtype", "enum", enum_names=_DT_NAMES), Field(2, "tensor_shape", TensorShapeProto), Field(3, "version_number", "int32"),
              Field(4, "tensor_content", "bytes"), Field(5, "float_val", "float", repeated=True),
              Field(6, "double_val", "double", repeated=True), Field(7, "int_val", "int32", repeated=True),
              Field(8, "string_val", "bytes", repeated=True), Field(9, "scomplex_val", "float", repeated=True),
              Field(10, "int64_val", "int64", repeated=True), Field(11, "bool_val", "bool", repeated=True),
              Field(12, "dcomplex_val", "double", repeated=True), Field(13, "half_val", "int32", repeated=True),
              Field(16, "uint32_val", "uint32", repeated=True), Field(17, "uint64_val", "uint64", repeated=True))


def _val_field(dtype: np.dtype) -> str:
    if dtype == STRING:
        return "string_val"
    if dtype == np.float16:
        return "half_val"
    if dtype.kind == "c":
        return "scomplex_val" if dtype == np.complex64 else "dcomplex_val"
    return {np.dtype("float32"): "float_val", np.dtype("float64"): "double_val", np.dtype("int64"): "int64_val",
            np.dtype("bool"): "bool_val", np.dtype("uint32"): "uint32_val",
            np.dtype("uint64"): "uint64_val"}.get(dtype, "int_val")


def _enum(dtype: np.dtype) -> int:
    if dtype not in _ENUM_OF:
        raise TypeError(f"Cannot serialize a tensor of dtype {dtype}: TensorFlow has no such type.")
    return _ENUM_OF[dtype]


def _shape_proto(shape) -> TensorShapeProto:
    proto = TensorShapeProto()
    for size in shape:
        proto.dim.add(size=int(size))
    return proto


def _array(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.numpy() if value.dtype != STRING else np.asarray(value.value, dtype=object)
    return np.asarray(convert_to_tensor(value).value)


def to_proto(array: np.ndarray, as_content: bool = True) -> TensorProto:
    """``array`` as a ``TensorProto``: ``tensor_content`` for numbers (``serialize_tensor``'s form) or the
    typed value list (``as_content=False``, ``make_tensor_proto``'s form for small tensors)."""
    dtype = array.dtype
    proto = TensorProto(dtype=_enum(dtype), tensor_shape=_shape_proto(array.shape))
    if dtype == STRING:
        proto.string_val.extend([v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in array.reshape(-1)])
    elif as_content:
        if array.size:
            proto.tensor_content = np.ascontiguousarray(array, dtype=dtype.newbyteorder("<")).tobytes()
    else:
        flat = array.reshape(-1)
        field = _val_field(dtype)
        if field == "half_val":
            flat = flat.view(np.uint16).astype(np.int32)
        elif dtype.kind == "c":
            flat = np.stack([flat.real, flat.imag], axis=1).reshape(-1)
        getattr(proto, field).extend(flat.tolist())
    return proto


def from_proto(proto: TensorProto) -> np.ndarray:
    """The array a ``TensorProto`` holds."""
    if proto.dtype not in _ENUM:
        raise InvalidArgumentError(None, None, f"Unsupported TensorProto dtype enum {proto.dtype}")
    dtype = _ENUM[proto.dtype]
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    size = int(np.prod(shape, dtype=np.int64))
    if dtype == STRING:
        values = list(proto.string_val)
        out = np.empty(size, dtype=object)
        if values:
            out[:len(values)] = values[:size]
            out[len(values):] = values[-1]
        else:
            out[:] = b""
        return out.reshape(shape)
    if proto.tensor_content:
        content = np.frombuffer(proto.tensor_content, dtype=dtype.newbyteorder("<"))
        if content.size != size:
            raise InvalidArgumentError(None, None, f"TensorProto holds {content.size} values for shape {list(shape)}")
        return content.astype(dtype).reshape(shape)
    field = _val_field(dtype)
    values = np.asarray(list(getattr(proto, field)))
    if field == "half_val":
        values = values.astype(np.uint16).view(np.float16)
    elif dtype.kind == "c":
        values = values.reshape(-1, 2) @ np.array([1, 1j]) if values.size else values
    values = values.astype(dtype)
    out = np.zeros(size, dtype=dtype)
    if values.size:
        out[:min(size, values.size)] = values[:size]
        out[values.size:] = values[-1]
    return out.reshape(shape)


def serialize_tensor(tensor, name=None) -> Tensor:
    """The ``TensorProto`` bytes of a tensor, as a string scalar (TensorFlow's exact bytes).

    Args:
        tensor: a tensor, array or Python value.
    """
    out = np.empty((), dtype=object)
    out[()] = to_proto(_array(tensor)).SerializeToString()
    return Tensor(out)


def _bytes(value, arg: str) -> bytes:
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"`{arg}` must be a string scalar (bytes). Received: {arg} of type {type(value).__name__}")
    return bytes(value)


def parse_tensor(serialized, out_type, name=None) -> Tensor:
    """The tensor a serialized ``TensorProto`` holds.

    Args:
        serialized: the bytes (``serialize_tensor``'s output).
        out_type: the dtype expected; a mismatch raises TensorFlow's InvalidArgumentError.
    """
    data = _bytes(serialized, "serialized")
    out_type = as_dtype(out_type)
    try:
        proto = TensorProto.FromString(data)
    except (DecodeError, IndexError):
        proto = None
    if proto is None or proto.dtype not in _ENUM:
        encoded = base64.b64encode(data).decode("ascii")
        raise InvalidArgumentError(None, None, f"Could not parse `serialized` as TensorProto, base64: {encoded}")
    parsed = _ENUM[proto.dtype]
    if parsed != out_type:
        raise InvalidArgumentError(None, None, f"Type mismatch between parsed tensor ({tf_type_name(parsed)}) and "
                                               f"dtype ({tf_type_name(out_type)})")
    return Tensor(from_proto(proto))


def make_tensor_proto(values, dtype=None, shape=None, verify_shape=False, allow_broadcast=False) -> TensorProto:
    """A ``TensorProto`` of ``values`` (``tf.make_tensor_proto``): numbers in ``tensor_content`` as TensorFlow
    writes them, strings in ``string_val``.

    Args:
        values: the values.
        dtype: their dtype (inferred when ``None``).
        shape: the tensor's shape; a scalar is broadcast to it, fewer values are an error.
        verify_shape: whether ``values`` must already have ``shape``.
        allow_broadcast: whether ``values`` may broadcast to ``shape``.
    """
    array = _array(values if dtype is None else convert_to_tensor(values, dtype=as_dtype(dtype)))
    if shape is None or tuple(int(s) for s in shape) == array.shape:
        # TensorFlow's choice: tensor_content for more than one number, the typed value list otherwise.
        return to_proto(array, as_content=array.size > 1)
    shape = tuple(int(s) for s in shape)
    if verify_shape:
        raise TypeError(f"Expected Tensor's shape: {shape}, but got {array.shape}.")
    if array.size == 1:  # a scalar stored once and broadcast on reading, as TensorFlow writes it
        proto = to_proto(array.reshape(-1), as_content=False)
        proto.tensor_shape.ClearField("dim")
        for size in shape:
            proto.tensor_shape.dim.add(size=size)
        return proto
    if allow_broadcast:
        return to_proto(np.ascontiguousarray(np.broadcast_to(array, shape)), as_content=True)
    if array.size != int(np.prod(shape, dtype=np.int64)):
        raise TypeError(f"Expected Tensor's shape: {shape}, but got {array.shape}.")
    return to_proto(np.ascontiguousarray(array).reshape(shape), as_content=array.size > 1)


def make_ndarray(tensor) -> np.ndarray:
    """The NumPy array a ``TensorProto`` holds (``tf.make_ndarray``)."""
    if not isinstance(tensor, TensorProto):
        raise TypeError(f"make_ndarray expects a TensorProto. Received: {type(tensor).__name__}")
    return from_proto(tensor).copy()


def _sparse_parts(sp_input):
    from featherflow.ops.sparse import SparseTensor

    if not isinstance(sp_input, SparseTensor):
        raise TypeError(f"Expected a tf.SparseTensor. Received: sp_input of type {type(sp_input).__name__}")
    return sp_input.indices.numpy(), _array(sp_input.values), sp_input.dense_shape.numpy()


def _check_out_type(out_type) -> None:
    if as_dtype(out_type) != STRING:
        raise TypeError(f"out_type must be tf.string: featherflow has no variant tensors. Received: "
                        f"out_type={out_type!r}")


def serialize_sparse(sp_input, out_type="string", name=None) -> Tensor:
    """A ``SparseTensor`` as 3 serialized ``TensorProto`` strings: indices, values, dense_shape."""
    _check_out_type(out_type)
    parts = [to_proto(np.asarray(p)).SerializeToString() for p in _sparse_parts(sp_input)]
    out = np.empty(3, dtype=object)
    out[:] = parts
    return Tensor(out)


def serialize_many_sparse(sp_input, out_type="string", name=None) -> Tensor:
    """A ``SparseTensor`` of rank >= 2 as ``[N, 3]`` strings: ``serialize_sparse`` of each entry of axis 0."""
    _check_out_type(out_type)
    indices, values, shape = _sparse_parts(sp_input)
    if shape.size < 2:
        raise InvalidArgumentError(None, None, f"Input SparseTensor must have rank >= 2, got rank {shape.size}")
    out = np.empty((int(shape[0]), 3), dtype=object)
    for row in range(int(shape[0])):
        mine = indices[:, 0] == row
        for col, part in enumerate((indices[mine, 1:], values[mine], shape[1:])):
            out[row, col] = to_proto(np.ascontiguousarray(part)).SerializeToString()
    return Tensor(out)


def deserialize_many_sparse(serialized_sparse, dtype, rank=None, name=None):
    """The ``SparseTensor`` of ``serialize_many_sparse``'s ``[N, 3]`` strings, entry ``i`` at index ``i`` of axis 0
    (the other dimensions are the largest of the entries')."""
    from featherflow.ops.sparse import SparseTensor

    rows = np.asarray(serialized_sparse.numpy() if isinstance(serialized_sparse, Tensor) else serialized_sparse,
                      dtype=object)
    if rows.ndim != 2 or rows.shape[1] != 3:
        raise InvalidArgumentError(None, None, f"Serialized sparse should be a matrix [N, 3]. Received shape: "
                                               f"{list(rows.shape)}")
    dtype = as_dtype(dtype)
    all_indices, all_values, shapes = [], [], []
    for row, (ind, val, shp) in enumerate(rows):
        indices = parse_tensor(ind, "int64").numpy().reshape(-1, max(len(parse_tensor(shp, "int64").numpy()), 0))
        all_indices.append(np.concatenate([np.full((len(indices), 1), row, np.int64), indices], axis=1))
        all_values.append(parse_tensor(val, dtype).numpy())
        shapes.append(parse_tensor(shp, "int64").numpy())
    inner = np.max(np.stack(shapes), axis=0) if shapes else np.zeros(0 if rank is None else rank - 1, np.int64)
    if rank is not None and inner.size + 1 != int(rank):
        raise InvalidArgumentError(None, None, f"Expected rank {rank}, got {inner.size + 1}")
    indices = np.concatenate(all_indices) if all_indices else np.zeros((0, inner.size + 1), np.int64)
    values = np.concatenate(all_values) if all_values else np.zeros(0, dtype)
    return SparseTensor(indices, Tensor(values.astype(dtype)), np.concatenate([[len(rows)], inner]))
