"""A small protocol-buffer runtime: the wire format and a ``Message`` base for the few messages TensorFlow's
file formats need (``tf.train.Example`` and its parts, ``TensorProto``).

Why not the ``protobuf`` package: these messages have a handful of fields each, their bytes must match
what TensorFlow writes, and ``import featherflow`` must not pull a compiled dependency in; the wire format
(https://protobuf.dev/programming-guides/encoding/) is a few dozen lines.

A message class lists its fields as ``Field(number, name, kind, ...)``; ``kind`` is a scalar kind
(``"int64"``, ``"int32"``, ``"float"``, ``"double"``, ``"bool"``, ``"bytes"``, ``"string"``, ``"enum"``) or
a message class. Repeated scalars are written packed (proto3), read packed or not; map fields keep the
order their entries were added or read in, so a parsed message serializes back to the same bytes.
Unknown fields are kept and written back.

>>> class Point(Message):
...     FIELDS = (Field(1, "x", "int64"), Field(2, "tags", "bytes", repeated=True))
>>> p = Point(x=-1, tags=[b"a"])
>>> Point.FromString(p.SerializeToString()) == p, p.SerializeToString().hex()
(True, '08ffffffffffffffffff01120161')
"""

from __future__ import annotations

import struct

import numpy as np

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5
_WIRE = {"int64": _VARINT, "int32": _VARINT, "uint64": _VARINT, "uint32": _VARINT, "bool": _VARINT,
         "enum": _VARINT, "float": _I32, "double": _I64, "bytes": _LEN, "string": _LEN}
_PACKABLE = {"int64", "int32", "uint64", "uint32", "bool", "enum", "float", "double"}
_STRUCT = {"float": "<f", "double": "<d"}


class DecodeError(ValueError):
    """The bytes are not a valid serialization of the message (protobuf's ``DecodeError``)."""


def encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64 / int32 values take ten bytes, as in protobuf
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError("Truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise DecodeError("Varint longer than 10 bytes")


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _tag(number: int, wire: int) -> bytes:
    return encode_varint((number << 3) | wire)


def _len_delimited(number: int, payload: bytes) -> bytes:
    return _tag(number, _LEN) + encode_varint(len(payload)) + payload


def _encode_scalar(kind: str, value) -> bytes:
    if kind in _STRUCT:
        return struct.pack(_STRUCT[kind], value)
    if kind in ("bytes", "string"):
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        return encode_varint(len(data)) + data
    return encode_varint(int(value))


def _convert_scalar(kind: str, value, name: str):
    """``value`` as the Python type a field of ``kind`` holds (protobuf's checks, its TypeError texts)."""
    if kind in ("float", "double"):
        if isinstance(value, (bool, str, bytes)) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"{value!r} has type {type(value).__name__}, but expected one of: int, float")
        return float(np.float32(value)) if kind == "float" else float(value)
    if kind in ("int64", "int32", "uint64", "uint32", "enum"):
        if isinstance(value, (float, np.floating, str, bytes)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{value!r} has type {type(value).__name__}, but expected one of: int")
        value = int(value)
        bits = 32 if kind in ("int32", "uint32", "enum") else 64
        low, high = (0, (1 << bits) - 1) if kind.startswith("u") else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        if not low <= value <= high:
            raise ValueError(f"Value out of range: {value}")
        return value
    if kind == "bool":
        return bool(value)
    if kind == "bytes":
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"{value!r} has type {type(value).__name__}, but expected one of: bytes")
        return bytes(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if not isinstance(value, str):
        raise TypeError(f"{value!r} has type {type(value).__name__}, but expected one of: bytes, unicode")
    return value


class Field:
    """One field of a message: its number, name, kind, and whether it is repeated, a map or in a oneof."""

    def __init__(self, number: int, name: str, kind, repeated: bool = False, map_key: str | None = None,
                 oneof: str | None = None, packed: bool = True, enum_names: dict | None = None):
        self.number, self.name, self.kind, self.enum_names = number, name, kind, enum_names or {}
        self.repeated, self.map_key, self.oneof, self.packed = repeated, map_key, oneof, packed

    @property
    def is_message(self) -> bool:
        return isinstance(self.kind, type)


class RepeatedField(list):
    """A repeated field: a list that checks and converts what goes in, and tells its message it changed."""

    def __init__(self, owner: Message, field: Field, items=()):
        super().__init__()
        self._owner, self._field = owner, field
        self.extend(items)

    def _convert(self, value):
        if self._field.is_message:
            return _as_message(self._field.kind, value)
        return _convert_scalar(self._field.kind, value, self._field.name)

    def append(self, value) -> None:
        super().append(self._convert(value))
        self._owner._mark()

    def extend(self, values) -> None:
        if isinstance(values, np.ndarray):
            values = values.reshape(-1).tolist()
        items = [self._convert(v) for v in values]
        super().extend(items)
        if items:
            self._owner._mark()

    def add(self, **kwargs):
        """A new message appended to a repeated message field (protobuf's ``add``)."""
        message = self._field.kind(**kwargs)
        self.append(message)
        return self[-1]

    def __setitem__(self, index, value):
        super().__setitem__(index, [self._convert(v) for v in value] if isinstance(index, slice)
                            else self._convert(value))
        self._owner._mark()

    def __delitem__(self, index):
        super().__delitem__(index)
        self._owner._mark()

    def __eq__(self, other):
        return list(self) == list(other)

    __hash__ = None


class MessageMap(dict):
    """A map field from keys to messages: reading a missing key adds a default message, as protobuf does."""

    def __init__(self, owner: Message, field: Field, items=None):
        super().__init__()
        self._owner, self._field = owner, field
        for key, value in (items or {}).items():
            self[key] = value

    def _key(self, key):
        return _convert_scalar(self._field.map_key, key, self._field.name)

    def __getitem__(self, key):
        key = self._key(key)
        if key not in self:
            super().__setitem__(key, self._field.kind())
            self._owner._mark()
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        super().__setitem__(self._key(key), _as_message(self._field.kind, value))
        self._owner._mark()

    def get_or_create(self, key):
        return self[key]

    def __eq__(self, other):
        return dict(self) == dict(other)

    __hash__ = None


def _as_message(cls, value):
    if isinstance(value, dict):
        value = cls(**value)
    if not isinstance(value, cls):
        raise TypeError(f"Message field must be a {cls.__name__} or a dict. Received: {type(value).__name__}")
    return value


class Message:
    """Base of the messages: keyword construction, field access with protobuf's semantics, the wire format."""

    FIELDS: tuple = ()
    _by_name: dict
    _by_number: dict

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._by_name = {f.name: f for f in cls.FIELDS}
        cls._by_number = {f.number: f for f in cls.FIELDS}

    def __init__(self, **kwargs):
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_unknown", b"")
        object.__setattr__(self, "_parent", None)
        for name, value in kwargs.items():
            if name not in self._by_name:
                raise ValueError(f'Protocol message {type(self).__name__} has no "{name}" field.')
            if value is None:
                continue
            field = self._by_name[name]
            if field.repeated or field.map_key:
                self._set_container(field, value)
            elif field.is_message:
                self._set_message(field, _as_message(field.kind, value))
            else:
                setattr(self, name, value)

    def _set_container(self, field: Field, value) -> None:
        container = getattr(self, field.name)
        if field.map_key:
            for key, item in value.items():
                container[key] = item
        else:
            container.extend(value)

    def _mark(self) -> None:
        """Record that this message now has content: a submessage read from an unset field becomes set."""
        parent = self._parent
        if parent is not None:
            owner, field = parent
            object.__setattr__(self, "_parent", None)
            owner._set_message(field, self)

    def _set_message(self, field: Field, message: Message) -> None:
        if field.oneof:
            for other in self.FIELDS:
                if other.oneof == field.oneof and other is not field:
                    self._values.pop(other.name, None)
        self._values[field.name] = message
        self._mark()

    def __getattr__(self, name):
        field = type(self)._by_name.get(name)
        if field is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        values = self._values
        if name in values:
            return values[name]
        if field.map_key:
            values[name] = MessageMap(self, field)
            return values[name]
        if field.repeated:
            values[name] = RepeatedField(self, field)
            return values[name]
        if field.is_message:
            child = field.kind()
            object.__setattr__(child, "_parent", (self, field))
            return child
        return _default(field.kind)

    def __setattr__(self, name, value):
        field = self._by_name.get(name)
        if field is None:
            raise AttributeError(f"Assignment not allowed (no field \"{name}\" in protocol message object).")
        if field.repeated or field.map_key or field.is_message:
            raise AttributeError(f"Assignment not allowed to field \"{name}\" in protocol message object.")
        self._values[name] = _convert_scalar(field.kind, value, name)
        self._mark()

    # The protobuf Message API.
    def HasField(self, field_name: str) -> bool:  # noqa: N802 - protobuf's names
        field = self._by_name.get(field_name)
        if field is None or field.repeated or field.map_key:
            raise ValueError(f'Protocol message has no singular "{field_name}" field.')
        return field_name in self._values

    def WhichOneof(self, oneof_group: str):  # noqa: N802
        names = [f.name for f in self.FIELDS if f.oneof == oneof_group]
        if not names:
            raise ValueError(f'Protocol message has no oneof "{oneof_group}" field.')
        return next((n for n in names if n in self._values), None)

    def ClearField(self, field_name: str) -> None:  # noqa: N802
        if field_name not in self._by_name:
            raise ValueError(f'Protocol message has no "{field_name}" field.')
        self._values.pop(field_name, None)

    def Clear(self) -> None:  # noqa: N802
        self._values.clear()
        object.__setattr__(self, "_unknown", b"")

    def ListFields(self) -> list:  # noqa: N802
        return [(self._by_name[name], value) for name, value in sorted(
            self._values.items(), key=lambda kv: self._by_name[kv[0]].number) if _present(value)]

    def CopyFrom(self, other: Message) -> None:  # noqa: N802
        if not isinstance(other, type(self)):
            raise TypeError(f"Parameter to CopyFrom() must be instance of same class: expected "
                            f"{type(self).__name__} got {type(other).__name__}.")
        if other is not self:
            self.Clear()
            self.MergeFrom(other)

    def MergeFrom(self, other: Message) -> None:  # noqa: N802
        self.MergeFromString(other.SerializeToString())

    def ParseFromString(self, serialized: bytes) -> int:  # noqa: N802
        self.Clear()
        return self.MergeFromString(serialized)

    def MergeFromString(self, serialized: bytes) -> int:  # noqa: N802
        data = bytes(serialized)
        self._merge(data, 0, len(data))
        self._mark()
        return len(data)

    @classmethod
    def FromString(cls, serialized: bytes):  # noqa: N802
        message = cls()
        message.MergeFromString(serialized)
        return message

    def SerializeToString(self, deterministic: bool = False) -> bytes:  # noqa: N802
        """The wire bytes; with ``deterministic=True`` map entries are sorted by key (as protobuf does)."""
        out = bytearray()
        for field in sorted(self.FIELDS, key=lambda f: f.number):
            if field.name not in self._values:
                continue
            value = self._values[field.name]
            if field.map_key:
                items = sorted(value.items(), key=_map_order(field.map_key)) if deterministic else value.items()
                for key, item in items:
                    entry = (_tag(1, _WIRE[field.map_key]) + _encode_scalar(field.map_key, key)
                             + _len_delimited(2, item.SerializeToString(deterministic)))
                    out += _len_delimited(field.number, entry)
            elif field.is_message:
                items = value if field.repeated else [value]
                for item in items:
                    out += _len_delimited(field.number, item.SerializeToString(deterministic))
            elif field.repeated:
                if not value:
                    continue
                if field.packed and field.kind in _PACKABLE:
                    out += _len_delimited(field.number, b"".join(_encode_scalar(field.kind, v) for v in value))
                else:
                    for item in value:
                        out += _tag(field.number, _WIRE[field.kind]) + _encode_scalar(field.kind, item)
            elif value != _default(field.kind) or field.oneof:  # proto3: defaults are not written
                out += _tag(field.number, _WIRE[field.kind]) + _encode_scalar(field.kind, value)
        return bytes(out) + self._unknown

    def ByteSize(self) -> int:  # noqa: N802
        return len(self.SerializeToString())

    def IsInitialized(self) -> bool:  # noqa: N802
        return True

    def _merge(self, data: bytes, pos: int, end: int) -> None:
        unknown = bytearray()
        while pos < end:
            start = pos
            key, pos = decode_varint(data, pos)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise DecodeError("Field number 0 is illegal")
            payload_start = pos
            if wire == _VARINT:
                raw, pos = decode_varint(data, pos)
            elif wire == _I64:
                pos += 8
            elif wire == _I32:
                pos += 4
            elif wire == _LEN:
                length, pos = decode_varint(data, pos)
                payload_start = pos
                pos += length
            else:
                raise DecodeError(f"Unsupported wire type {wire}")
            if pos > end:
                raise DecodeError("Truncated message")
            field = self._by_number.get(number)
            if field is None:
                unknown += data[start:pos]
                continue
            self._merge_field(field, wire, data, payload_start, pos, raw if wire == _VARINT else None)
        if unknown:
            object.__setattr__(self, "_unknown", self._unknown + bytes(unknown))

    def _merge_field(self, field: Field, wire: int, data: bytes, start: int, end: int, raw) -> None:
        values = self._values
        if field.map_key:
            entry = _MapEntry.make(field)()
            entry._merge(data, start, end)
            key = entry._values.get("key", _default(field.map_key))
            item = entry._values.get("value") or field.kind()
            mapping = getattr(self, field.name)
            dict.__setitem__(mapping, key, item)
            return
        if field.is_message:
            if wire != _LEN:
                raise DecodeError(f"Field {field.name} has the wrong wire type")
            if field.repeated:
                message = field.kind()
                message._merge(data, start, end)
                list.append(getattr(self, field.name), message)
            else:
                message = values.get(field.name) or field.kind()
                message._merge(data, start, end)
                self._set_message(field, message)
            return
        if field.repeated and wire == _LEN and field.kind in _PACKABLE:
            items = _decode_packed(field.kind, data, start, end)
        else:
            if wire != _WIRE[field.kind]:
                raise DecodeError(f"Field {field.name} has the wrong wire type")
            items = [_decode_scalar(field.kind, data, start, end, raw)]
        if field.repeated:
            list.extend(getattr(self, field.name), items)
        else:
            values[field.name] = items[-1]

    def __eq__(self, other):
        if not isinstance(other, type(self)):
            return NotImplemented
        mine = {k: v for k, v in self._values.items() if _present(v)}
        theirs = {k: v for k, v in other._values.items() if _present(v)}
        return mine == theirs and self._unknown == other._unknown

    __hash__ = None

    def __str__(self) -> str:
        return "".join(_text_lines(self, 0))

    def __repr__(self) -> str:
        return str(self)

    def __reduce__(self):
        return type(self).FromString, (self.SerializeToString(),)

    def __deepcopy__(self, memo):
        return type(self).FromString(self.SerializeToString())


def _map_order(kind: str):
    """The sort key of deterministic map serialization: upb's (protobuf for Python's), where a key that another
    key starts with comes after it (``"x2"`` before ``"x"``); numbers in their order."""
    if kind not in ("string", "bytes"):
        return lambda item: item[0]

    def key(item):
        data = item[0].encode("utf-8") if isinstance(item[0], str) else item[0]
        return tuple(data) + (256,)  # 256 sorts after every byte: the shorter of two prefix-equal keys is last

    return key


def _present(value) -> bool:
    return not isinstance(value, (RepeatedField, MessageMap)) or bool(value)


def _default(kind):
    if isinstance(kind, type):
        return None
    return {"float": 0.0, "double": 0.0, "bool": False, "bytes": b"", "string": ""}.get(kind, 0)


def _decode_scalar(kind: str, data: bytes, start: int, end: int, raw):
    if kind in _STRUCT:
        return float(struct.unpack_from(_STRUCT[kind], data, start)[0])
    if kind == "bytes":
        return bytes(data[start:end])
    if kind == "string":
        try:
            return data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("String field holds invalid UTF-8") from None
    if kind == "bool":
        return bool(raw)
    if kind in ("int64", "enum"):
        return _signed(raw, 64)
    if kind == "int32":
        return _signed(raw, 32)
    return raw


def _decode_packed(kind: str, data: bytes, start: int, end: int) -> list:
    if kind in _STRUCT:
        size = 4 if kind == "float" else 8
        if (end - start) % size:
            raise DecodeError("Packed field length is not a multiple of the item size")
        return np.frombuffer(data, dtype=_STRUCT[kind], count=(end - start) // size, offset=start).tolist()
    items, pos = [], start
    while pos < end:
        raw, pos = decode_varint(data, pos)
        items.append(_decode_scalar(kind, data, 0, 0, raw))
    if pos != end:
        raise DecodeError("Truncated packed field")
    return items


class _MapEntry(Message):
    """The implicit ``{key = 1; value = 2}`` message of a map field's entries."""

    _cache: dict = {}

    @classmethod
    def make(cls, field: Field):
        key = (field.map_key, field.kind)
        if key not in cls._cache:
            cls._cache[key] = type("MapEntry", (Message,), {"FIELDS": (Field(1, "key", field.map_key),
                                                                       Field(2, "value", field.kind))})
        return cls._cache[key]


def text_escape(data: bytes) -> str:
    """Protobuf text format's C escaping of a bytes value (octal for unprintable bytes)."""
    special = {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x22: '\\"', 0x27: "\\'", 0x5C: "\\\\"}
    return "".join(special.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\{b:03o}") for b in data)


def _text_scalar(kind: str, value) -> str:
    if kind == "bytes":
        return f'"{text_escape(value)}"'
    if kind == "string":
        return f'"{text_escape(value.encode("utf-8"))}"'
    if kind == "bool":
        return "true" if value else "false"
    if kind in ("float", "double"):
        number = np.float32(value) if kind == "float" else np.float64(value)
        if np.isnan(number):
            return "nan"
        if np.isinf(number):
            return "inf" if number > 0 else "-inf"
        text = repr(float(number)) if kind == "double" else str(number)
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def _text_lines(message: Message, indent: int):
    pad = " " * indent
    for field, value in message.ListFields():
        if field.map_key:
            for key, item in value.items():
                yield f"{pad}{field.name} {{\n{pad}  key: {_text_scalar(field.map_key, key)}\n"
                yield f"{pad}  value {{\n"
                yield from _text_lines(item, indent + 4)
                yield f"{pad}  }}\n{pad}}}\n"
        elif field.is_message:
            for item in (value if field.repeated else [value]):
                yield f"{pad}{field.name} {{\n"
                yield from _text_lines(item, indent + 2)
                yield f"{pad}}}\n"
        else:
            for item in (value if field.repeated else [value]):
                text = field.enum_names.get(item) or _text_scalar(field.kind, item)
                yield f"{pad}{field.name}: {text}\n"
