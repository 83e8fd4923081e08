"""``tf.train.Example`` and its parts: the protocol buffers of ``tensorflow/core/example/{example,feature}.proto``
with their real wire format, so records written by TensorFlow read here and the other way round.

A parsed message serializes back to the same bytes; ``Features`` is a map, written in the order its entries
were added (``SerializeToString(deterministic=True)`` sorts them by key, as protobuf does).

>>> example = Example(features=Features(feature={"label": Feature(int64_list=Int64List(value=[3]))}))
>>> example.SerializeToString().hex()
'0a100a0e0a056c6162656c12051a030a0103'
>>> Example.FromString(example.SerializeToString()).features.feature["label"].int64_list.value
[3]
"""

from __future__ import annotations

from featherflow.io.proto import Field, Message


class BytesList(Message):
    """``repeated bytes value = 1``: the values of a bytes (string) feature."""

    FIELDS = (Field(1, "value", "bytes", repeated=True),)


class FloatList(Message):
    """``repeated float value = 1 [packed = true]``: the values of a float32 feature."""

    FIELDS = (Field(1, "value", "float", repeated=True),)


class Int64List(Message):
    """``repeated int64 value = 1 [packed = true]``: the values of an int64 feature."""

    FIELDS = (Field(1, "value", "int64", repeated=True),)


class Feature(Message):
    """One feature: one of ``bytes_list``, ``float_list`` or ``int64_list`` (the oneof ``kind``)."""

    FIELDS = (Field(1, "bytes_list", BytesList, oneof="kind"), Field(2, "float_list", FloatList, oneof="kind"),
              Field(3, "int64_list", Int64List, oneof="kind"))


class Features(Message):
    """``map<string, Feature> feature = 1``: named features."""

    FIELDS = (Field(1, "feature", Feature, map_key="string"),)


class FeatureList(Message):
    """``repeated Feature feature = 1``: a sequence of features (one per time step)."""

    FIELDS = (Field(1, "feature", Feature, repeated=True),)


class FeatureLists(Message):
    """``map<string, FeatureList> feature_list = 1``: named feature sequences."""

    FIELDS = (Field(1, "feature_list", FeatureList, map_key="string"),)


class Example(Message):
    """``Features features = 1``: one record of named features, the usual content of a TFRecord file."""

    FIELDS = (Field(1, "features", Features),)


class SequenceExample(Message):
    """``Features context = 1; FeatureLists feature_lists = 2``: per-sequence and per-step features."""

    FIELDS = (Field(1, "context", Features), Field(2, "feature_lists", FeatureLists))
