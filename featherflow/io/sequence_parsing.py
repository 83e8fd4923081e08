"""``tf.io.parse_sequence_example`` / ``parse_single_sequence_example`` (``tf.train.SequenceExample`` records)
and ``decode_json_example`` (an ``Example`` in protobuf's JSON form to its wire bytes).

Context features parse as in ``parse_example``. Sequence features: ``FixedLenSequenceFeature`` gives
``[steps] + shape`` (``[batch, longest] + shape`` padded, with the lengths in a third dict, in a batch),
``VarLenFeature`` a ``SparseTensor`` ``[steps, longest]``, ``RaggedFeature`` a ``RaggedTensor``.

>>> import featherflow as tf
>>> seq = tf.train.SequenceExample(feature_lists=tf.train.FeatureLists(feature_list={"w": tf.train.FeatureList(
...     feature=[tf.train.Feature(int64_list=tf.train.Int64List(value=[v])) for v in (4, 5, 6)])}))
>>> _, steps = parse_single_sequence_example(seq.SerializeToString(),
...     sequence_features={"w": tf.io.FixedLenSequenceFeature([], tf.int64)})
>>> steps["w"].numpy()
array([4, 5, 6])
"""

from __future__ import annotations

import json

import numpy as np

from featherflow.core.errors import InvalidArgumentError
from featherflow.core.tensor import Tensor
from featherflow.core.tensor_spec import STRING
from featherflow.io import parsing
from featherflow.io.parsing_config import FixedLenSequenceFeature, RaggedFeature, VarLenFeature, type_name
from featherflow.io.proto import DecodeError


def _sequence_example(data: bytes) -> tuple:
    """``(context map, {key: [(kind, start, end) per step]})`` of a serialized ``SequenceExample``."""
    try:
        context, lists = {}, {}
        for number, wire, begin, stop, _ in parsing._fields(data, 0, len(data)):
            if wire != 2:
                continue
            if number == 1:
                context.update(parsing._features_map(data, begin, stop))
            elif number == 2:
                for n, w, b, s, _ in parsing._fields(data, begin, stop):
                    if n != 1 or w != 2:
                        continue
                    key, steps = b"", []
                    for n2, w2, b2, s2, _ in parsing._fields(data, b, s):
                        if n2 == 1 and w2 == 2:
                            key = data[b2:s2]
                        elif n2 == 2 and w2 == 2:
                            steps = [_kind(data, b3, s3) for n3, w3, b3, s3, _ in parsing._fields(data, b2, s2)
                                     if n3 == 1 and w3 == 2]
                    lists[key.decode("utf-8", "surrogateescape")] = steps
        return context, lists
    except (DecodeError, IndexError):
        raise InvalidArgumentError(None, None, "Could not parse example input, value: "
                                               f"'{data[:64].decode('latin-1')}'") from None


def _kind(data: bytes, start: int, end: int) -> tuple:
    kind = (0, 0, 0)
    for n, w, b, s, _ in parsing._fields(data, start, end):
        if n in (1, 2, 3) and w == 2:
            kind = (n, b, s)
    return kind


class _ContextReader(parsing._Reader):
    def __init__(self, records, names, single, maps):
        self.records, self.names, self.single, self.maps = records, names, single, maps


def _steps(record: bytes, steps: list, key: str, spec, index: int, single: bool) -> list:
    out = []
    for kind, begin, end in steps:
        if not kind:
            out.append(np.zeros(0, spec.dtype))
            continue
        if parsing._KIND_DTYPE[kind] != spec.dtype:
            actual = {1: "string", 2: "float", 3: "int64"}[kind]
            where = f"Key: {key}, Index: {index}.  " if not single else f"Feature list: {key}.  "
            raise InvalidArgumentError(None, None, f"Name: <unknown>, {where}Data types don't match. Expected type: "
                                                   f"{type_name(spec.dtype)}, Actual type: {actual}")
        out.append(parsing._values(record, kind, begin, end))
    return out


def _dense_steps(values: list, key: str, spec) -> np.ndarray:
    dims = parsing._dims(spec, key)
    size = int(np.prod(dims, dtype=np.int64))
    for step, v in enumerate(values):
        if v.size != size:
            raise InvalidArgumentError(None, None, f"Name: <unknown>, Key: {key}, Index: {step}.  Number of "
                                                   f"{type_name(spec.dtype)} values != expected.  values size: "
                                                   f"{v.size} but output shape: [{','.join(map(str, dims))}]")
    array = np.empty((len(values), *dims), dtype=spec.dtype)
    for step, v in enumerate(values):
        array[step] = v.reshape(dims)
    return array


def _parse_lists(records: list, lists: list, features: dict, single: bool) -> tuple:
    from featherflow.core.ragged import RaggedTensor
    from featherflow.ops.sparse import SparseTensor

    out, lengths = {}, {}
    for key, spec in features.items():
        per_example = []
        for index, (record, found) in enumerate(zip(records, lists)):
            if key not in found:
                if isinstance(spec, FixedLenSequenceFeature) and not spec.allow_missing:
                    raise InvalidArgumentError(None, None, f"Name: <unknown>, Feature list '{key}' is required but "
                                                           f"could not be found.  Did you mean to include it in "
                                                           f"feature_list_dense_missing_assumed_empty or "
                                                           f"feature_list_dense_defaults?")
                per_example.append([])
            else:
                per_example.append(_steps(record, found[key], key, spec, index, single))
        if isinstance(spec, FixedLenSequenceFeature):
            dense = [_dense_steps(v, key, spec) if v else np.zeros((0, *parsing._dims(spec, key)), spec.dtype)
                     for v in per_example]
            longest = max(len(d) for d in dense)
            fill = (parsing._default(spec, int(np.prod(parsing._dims(spec, key))), key)
                    if spec.default_value is not None else b"" if spec.dtype == STRING else 0)
            array = np.empty((len(dense), longest, *parsing._dims(spec, key)), dtype=spec.dtype)
            array[...] = np.reshape(fill, parsing._dims(spec, key)) if np.ndim(fill) else fill
            for i, d in enumerate(dense):
                array[i, :len(d)] = d
            out[key] = Tensor(array[0] if single else array)
            lengths[key] = Tensor(np.array([len(d) for d in dense], dtype=np.int64))
        elif isinstance(spec, VarLenFeature):
            rows = []
            for example, steps in enumerate(per_example):
                for step, v in enumerate(steps):
                    rows += [(example, step, i) for i in range(v.size)]
            flat = [x for steps in per_example for v in steps for x in v.tolist()]
            indices = np.array(rows, dtype=np.int64).reshape(-1, 3)
            longest_steps = max(len(s) for s in per_example)
            longest_values = max((v.size for s in per_example for v in s), default=0)
            values = Tensor(np.array(flat, dtype=spec.dtype).reshape(-1))
            if single:
                out[key] = SparseTensor(indices[:, 1:], values, [longest_steps, longest_values])
            else:
                out[key] = SparseTensor(indices, values, [len(records), longest_steps, longest_values])
        elif isinstance(spec, RaggedFeature):
            steps_ragged = [RaggedTensor.from_row_lengths(
                Tensor(np.concatenate(s) if s else np.zeros(0, spec.dtype)),
                Tensor(np.array([v.size for v in s], dtype=spec.row_splits_dtype))) for s in per_example]
            if single:
                out[key] = steps_ragged[0]
            else:
                flat = [v for s in per_example for v in s]
                inner = RaggedTensor.from_row_lengths(
                    Tensor(np.concatenate(flat) if flat else np.zeros(0, spec.dtype)),
                    Tensor(np.array([v.size for v in flat], dtype=spec.row_splits_dtype)))
                out[key] = RaggedTensor.from_row_lengths(
                    inner, Tensor(np.array([len(s) for s in per_example], dtype=spec.row_splits_dtype)))
        else:
            raise ValueError(f"Unsupported {type(spec).__name__} {spec} for sequence feature key '{key}'")
    return out, lengths


def _check(context_features, sequence_features) -> tuple:
    if not context_features and not sequence_features:
        raise ValueError("Invalid argument: Must provide at least one context_feature or sequence_feature.")
    context = parsing.check_features(context_features, "context_features") if context_features else {}
    sequence = parsing.check_features(sequence_features, "sequence_features") if sequence_features else {}
    return context, sequence


def parse_single_sequence_example(serialized, context_features=None, sequence_features=None, example_name=None,
                                  name=None) -> tuple:
    """Parse one serialized ``SequenceExample`` into ``(context dict, sequence dict)``.

    Args:
        serialized: a scalar string.
        context_features: ``{key: FixedLenFeature | VarLenFeature | RaggedFeature}`` of the context.
        sequence_features: ``{key: FixedLenSequenceFeature | VarLenFeature | RaggedFeature}`` of the lists.
    """
    context_spec, sequence_spec = _check(context_features, sequence_features)
    records, scalar = parsing._records(serialized, "parse_single_sequence_example")
    if not scalar:
        raise ValueError("Input serialized must be a scalar")
    context_map, lists = _sequence_example(records[0])
    context = parsing.parse_reader(_ContextReader(records, None, True, [context_map]), context_spec)
    sequence, _ = _parse_lists(records, [lists], sequence_spec, single=True)
    return context, sequence


def parse_sequence_example(serialized, context_features=None, sequence_features=None, example_names=None,
                           name=None) -> tuple:
    """Parse a vector of serialized ``SequenceExample`` into ``(context, feature_lists, lengths)`` dicts.

    Dense sequence features are padded to the longest example (``default_value`` or 0); ``lengths`` holds
    each example's number of steps for them.
    """
    context_spec, sequence_spec = _check(context_features, sequence_features)
    records, scalar = parsing._records(serialized, "parse_sequence_example")
    if scalar:
        raise ValueError("Input serialized must be a vector (use parse_single_sequence_example for one).")
    parsed = [_sequence_example(r) for r in records]
    context = parsing.parse_reader(_ContextReader(records, None, False, [p[0] for p in parsed]), context_spec)
    sequence, lengths = _parse_lists(records, [p[1] for p in parsed], sequence_spec, single=False)
    return context, sequence, lengths


_JSON_KINDS = {"bytesList": "bytes_list", "floatList": "float_list", "int64List": "int64_list",
               "bytes_list": "bytes_list", "float_list": "float_list", "int64_list": "int64_list"}


def _example_from_json(text: bytes):
    import base64

    from featherflow.io.example_proto import Example, Feature

    data = json.loads(text)
    example = Example()
    for key, feature in data.get("features", {}).get("feature", {}).items():
        message = Feature()
        for kind, body in feature.items():
            field = _JSON_KINDS.get(kind)
            if field is None:
                raise InvalidArgumentError(None, None, f"Invalid JSON Example: unknown field \"{kind}\"")
            values = body.get("value", [])
            if field == "bytes_list":
                values = [base64.b64decode(v) for v in values]
            elif field == "int64_list":
                values = [int(v) for v in values]
            else:
                values = [float(v) for v in values]
            getattr(message, field).value.extend(values)
            if not values:
                message._set_message(Feature._by_name[field], getattr(message, field))
        example.features.feature[key] = message
    return example


def decode_json_example(json_examples, name=None) -> Tensor:
    """Each ``tf.train.Example`` in protobuf's JSON form (``{"features": {"feature": {"x": {"int64List":
    {"value": ["1"]}}}}}``) as its serialized bytes."""
    from featherflow.io.files import _strings

    data = _strings(json_examples)
    out = np.empty(data.shape, dtype=object)
    for index, item in np.ndenumerate(data):
        try:
            out[index] = _example_from_json(item).SerializeToString()
        except (ValueError, AttributeError, TypeError) as exc:
            raise InvalidArgumentError(None, None, f"Error while parsing JSON: {exc}") from None
    return Tensor(out)
