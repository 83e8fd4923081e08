"""``tf.io``: files (``read_file``, ``write_file``, ``gfile``), TFRecord files, ``tf.train.Example`` parsing,
tensor serialization, CSV / raw / base64 decoding and the image codecs (``featherflow.image``'s).

>>> import featherflow as tf
>>> tf.io.parse_tensor(tf.io.serialize_tensor([1, 2]), tf.int32).numpy()
array([1, 2], dtype=int32)
"""

from featherflow.io import gfile  # noqa: F401
from featherflow.io.files import (  # noqa: F401
    decode_base64,
    decode_compressed,
    decode_csv,
    decode_raw,
    encode_base64,
    match_filenames_once,
    matching_files,
    read_file,
    write_file,
)
from featherflow.io.parsing import parse_example, parse_single_example  # noqa: F401
from featherflow.io.parsing_config import (  # noqa: F401
    FixedLenFeature,
    FixedLenSequenceFeature,
    RaggedFeature,
    SparseFeature,
    VarLenFeature,
)
from featherflow.io.sequence_parsing import (  # noqa: F401
    decode_json_example,
    parse_sequence_example,
    parse_single_sequence_example,
)
from featherflow.io.tensor_proto import (  # noqa: F401
    deserialize_many_sparse,
    parse_tensor,
    serialize_many_sparse,
    serialize_sparse,
    serialize_tensor,
)
from featherflow.io.tfrecord import TFRecordOptions, TFRecordWriter, tf_record_iterator  # noqa: F401

_IMAGE = ("decode_and_crop_jpeg", "decode_bmp", "decode_gif", "decode_image", "decode_jpeg", "decode_png",
          "decode_webp", "encode_jpeg", "encode_png", "extract_jpeg_shape", "is_jpeg")


def __getattr__(name):
    # The image codecs are featherflow.image's (tf.io.decode_png is tf.image.decode_png), loaded on first use.
    if name in _IMAGE:
        from featherflow.image import codec

        value = getattr(codec, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'featherflow.io' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_IMAGE))
