"""Decoding and encoding image files (PNG, JPEG, GIF, BMP) through Pillow, the ``image`` extra.

Pillow is imported inside the functions (``pip install "featherflow[image]"``), never by ``import featherflow``.
``contents`` is the file's bytes (``bytes``, a 0-d bytes array, or what an encoder returned); decoders return
``uint8`` tensors ``(rows, cols, channels)`` (GIF: ``(frames, rows, cols, 3)``). Encoders return the file's
bytes (featherflow has no string tensors: the result is ``bytes`` whose ``.numpy()`` gives the same bytes, as
for a TF string scalar). Channel conversions (``channels=1`` of a colour file, ...) use Pillow's (ITU-R 601-2
luma), which can differ from libpng's / libjpeg's by one grey level.

>>> import numpy as np
>>> png = encode_png(np.arange(12, dtype="uint8").reshape(2, 2, 3))
>>> decode_png(png).numpy()[1, 1].tolist()
[9, 10, 11]
"""

from __future__ import annotations

import io

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.image.color import convert_image_dtype


class EncodedImage(bytes):
    """An encoded image file: ``bytes``, with ``.numpy()`` as on a TensorFlow string scalar."""

    def numpy(self) -> bytes:
        return bytes(self)


def pillow():
    """``PIL.Image``, or an ImportError that names the extra to install."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('Reading and writing image files needs Pillow. Install it with: '
                          'pip install "featherflow[image]"') from None
    return Image


def _bytes(contents, op) -> bytes:
    if isinstance(contents, Tensor):
        contents = contents.numpy()
    if isinstance(contents, np.ndarray) and contents.ndim == 0:
        contents = contents.item()
    if isinstance(contents, (bytes, bytearray, memoryview)):
        return bytes(contents)
    raise TypeError(f"{op}: `contents` must be the encoded file as bytes. Received: {type(contents).__name__}")


def _open(data: bytes, op):
    Image = pillow()
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError) as exc:
        raise ValueError(f"{op}: could not decode the image ({exc}). Received {len(data)} bytes starting with "
                         f"{data[:8]!r}") from None
    return image


_MODE_FOR_CHANNELS = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _to_array(image, channels: int, op, allowed=(0, 1, 3, 4)) -> np.ndarray:
    if channels not in allowed:
        raise ValueError(f"{op}: `channels` must be one of {list(allowed)}. Received: channels={channels}")
    if image.mode in ("I;16", "I;16B", "I;16L", "I") and channels in (0, 1):
        return np.asarray(image, dtype=np.uint16)[:, :, None]
    if channels == 0:
        if image.mode in _MODE_FOR_CHANNELS.values():
            mode = image.mode
        elif image.mode == "P" and "transparency" in image.info:
            mode = "RGBA"
        elif image.mode in ("1", "I", "F") or image.mode.startswith("I;"):
            mode = "L"
        elif image.mode == "PA":
            mode = "RGBA"
        else:
            mode = "RGB"
    else:
        mode = _MODE_FOR_CHANNELS[channels]
    array = np.asarray(image.convert(mode) if image.mode != mode else image, dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array


def _with_dtype(array: np.ndarray, dtype) -> Tensor:
    dtype = np.dtype(dtype)
    if dtype not in (np.uint8, np.uint16, np.float16, np.float32, np.float64):
        raise ValueError(f"`dtype` must be uint8, uint16 or a float type. Received: dtype={dtype.name}")
    tensor = Tensor(np.ascontiguousarray(array))
    return tensor if array.dtype == dtype else convert_image_dtype(tensor, dtype)


def decode_png(contents, channels=0, dtype="uint8", name=None) -> Tensor:
    """Decode a PNG file to ``(rows, cols, channels)`` (``channels`` 0: as stored, 1, 3 or 4); 16-bit files give
    ``uint16`` with ``dtype="uint16"``."""
    data = _bytes(contents, "decode_png")
    if not data.startswith(b"\x89PNG"):
        raise ValueError("decode_png: the contents are not a PNG file (missing the PNG signature).")
    return _with_dtype(_to_array(_open(data, "decode_png"), int(channels), "decode_png"), dtype)


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True, try_recover_truncated=False,
                acceptable_fraction=1, dct_method="", name=None) -> Tensor:
    """Decode a JPEG file to ``uint8`` ``(rows, cols, channels)``; ``ratio`` in 1, 2, 4, 8 downscales while
    decoding (``ceil(size / ratio)`` pixels)."""
    data = _bytes(contents, "decode_jpeg")
    if not is_jpeg_bytes(data):
        raise ValueError("decode_jpeg: the contents are not a JPEG file (missing the JPEG start-of-image marker).")
    if ratio not in (1, 2, 4, 8):
        raise ValueError(f"decode_jpeg: `ratio` must be 1, 2, 4 or 8. Received: ratio={ratio}")
    image = pillow().open(io.BytesIO(data))
    if ratio > 1:
        width, height = image.size
        image.draft(image.mode, (-(-width // ratio), -(-height // ratio)))
    try:
        image.load()
    except OSError as exc:
        raise ValueError(f"decode_jpeg: could not decode the image ({exc}).") from None
    return Tensor(_to_array(image, int(channels), "decode_jpeg", (0, 1, 3)))


def decode_bmp(contents, channels=0, name=None) -> Tensor:
    """Decode a BMP file to ``uint8`` ``(rows, cols, channels)`` (``channels`` 0, 1, 3 or 4)."""
    data = _bytes(contents, "decode_bmp")
    if not data.startswith(b"BM"):
        raise ValueError("decode_bmp: the contents are not a BMP file (missing the 'BM' signature).")
    return Tensor(_to_array(_open(data, "decode_bmp"), int(channels), "decode_bmp"))


def _gif_frames(image) -> np.ndarray:
    frames = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        frames.append(np.asarray(image.convert("RGB"), dtype=np.uint8))
    return np.stack(frames)


def decode_gif(contents, name=None) -> Tensor:
    """Decode every frame of a GIF file: ``uint8`` ``(frames, rows, cols, 3)``."""
    data = _bytes(contents, "decode_gif")
    if not data.startswith((b"GIF87a", b"GIF89a")):
        raise ValueError("decode_gif: the contents are not a GIF file (missing the GIF signature).")
    return Tensor(_gif_frames(_open(data, "decode_gif")))


def decode_webp(contents, channels=0, dtype="uint8", name=None) -> Tensor:
    """Decode a WebP file to ``uint8`` ``(rows, cols, channels)`` (``channels`` 0, 3 or 4); an animation gives
    RGBA frames ``(frames, rows, cols, 4)``."""
    data = _bytes(contents, "decode_webp")
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("decode_webp: the contents are not a WebP file (missing the RIFF/WEBP signature).")
    image = _open(data, "decode_webp")
    if getattr(image, "n_frames", 1) > 1:
        frames = []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGBA"), dtype=np.uint8))
        return _with_dtype(np.stack(frames), dtype)
    return _with_dtype(_to_array(image, int(channels), "decode_webp", (0, 3, 4)), dtype)


def decode_image(contents, channels=None, dtype="uint8", name=None, expand_animations=True) -> Tensor:
    """Decode a BMP, GIF, JPEG or PNG file, whichever it is: ``(rows, cols, channels)``, or
    ``(frames, rows, cols, 3)`` for a GIF unless ``expand_animations=False`` (then its first frame).
    ``dtype`` float types rescale to ``[0, 1]``.

    >>> import numpy as np
    >>> decode_image(encode_png(np.zeros((3, 2, 1), "uint8")), dtype="float32").shape
    (3, 2, 1)
    """
    data = _bytes(contents, "decode_image")
    channels = 0 if channels is None else int(channels)
    image = _open(data, "decode_image")
    if image.format == "GIF":
        frames = _gif_frames(image)
        array = frames if expand_animations else frames[0]
        if channels not in (0, 3):
            raise ValueError(f"decode_image: GIF images have 3 channels. Received: channels={channels}")
    else:
        array = _to_array(image, channels, "decode_image")
    return _with_dtype(array, dtype)


def _image_array(image, op) -> np.ndarray:
    array = np.asarray(image.numpy() if isinstance(image, Tensor) else image)
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"{op}: `image` must be (rows, cols, channels) with 1 to 4 channels. Received: "
                         f"image.shape={array.shape}")
    return array


def encode_png(image, compression=-1, name=None) -> EncodedImage:
    """Encode a ``uint8`` (or single-channel ``uint16``) image ``(rows, cols, channels)`` as PNG;
    ``compression`` 0-9 (-1: default)."""
    array = _image_array(image, "encode_png")
    if array.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"encode_png: `image` must be uint8 or uint16. Received: image.dtype={array.dtype}")
    Image = pillow()
    if array.dtype == np.uint16:
        if array.shape[-1] != 1:
            raise ValueError("encode_png: Pillow writes 16-bit PNGs with one channel only.")
        picture = Image.fromarray(np.ascontiguousarray(array[:, :, 0].astype("<u2")))  # mode I;16
    else:  # modes L, LA, RGB, RGBA from the channel count
        picture = Image.fromarray(np.ascontiguousarray(array[:, :, 0] if array.shape[-1] == 1 else array))
    level = int(compression)
    if not -1 <= level <= 9:
        raise ValueError(f"encode_png: `compression` must be in [-1, 9]. Received: compression={compression}")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=6 if level == -1 else level)
    return EncodedImage(buffer.getvalue())


def encode_jpeg(image, format="", quality=95, progressive=False, optimize_size=False,  # noqa: A002
                chroma_downsampling=True, density_unit="in", x_density=300, y_density=300, xmp_metadata="",
                name=None) -> EncodedImage:
    """Encode a ``uint8`` image ``(rows, cols, 1 or 3)`` as JPEG with ``quality`` 0-100."""
    array = _image_array(image, "encode_jpeg")
    if array.dtype != np.uint8:
        raise TypeError(f"encode_jpeg: `image` must be uint8. Received: image.dtype={array.dtype}")
    if format not in ("", "grayscale", "rgb"):
        raise ValueError(f'encode_jpeg: `format` must be "", "grayscale" or "rgb". Received: format={format!r}')
    channels = {"grayscale": 1, "rgb": 3}.get(format, array.shape[-1])
    if array.shape[-1] != channels or channels not in (1, 3):
        raise ValueError(f"encode_jpeg: the image must have 1 or 3 channels (matching `format`). Received: "
                         f"image.shape={array.shape}, format={format!r}")
    if not 0 <= int(quality) <= 100:
        raise ValueError(f"encode_jpeg: `quality` must be in [0, 100]. Received: quality={quality}")
    Image = pillow()
    picture = Image.fromarray(np.ascontiguousarray(array[:, :, 0] if channels == 1 else array))  # L or RGB
    buffer = io.BytesIO()
    dpi = (int(x_density), int(y_density)) if density_unit == "in" else (x_density * 2.54, y_density * 2.54)
    picture.save(buffer, format="JPEG", quality=int(quality), progressive=bool(progressive),
                 optimize=bool(optimize_size), subsampling=2 if chroma_downsampling else 0, dpi=dpi)
    return EncodedImage(buffer.getvalue())


def is_jpeg_bytes(data: bytes) -> bool:
    return data[:3] == b"\xff\xd8\xff"


def is_jpeg(contents, name=None) -> Tensor:
    """Whether ``contents`` starts with JPEG's start-of-image marker (a bool scalar)."""
    return Tensor(np.asarray(is_jpeg_bytes(_bytes(contents, "is_jpeg"))))


def extract_jpeg_shape(contents, output_type="int32", name=None) -> Tensor:
    """``[rows, cols, channels]`` of a JPEG file, read from its header."""
    data = _bytes(contents, "extract_jpeg_shape")
    if not is_jpeg_bytes(data):
        raise ValueError("extract_jpeg_shape: the contents are not a JPEG file.")
    image = pillow().open(io.BytesIO(data))
    width, height = image.size
    return Tensor(np.asarray([height, width, len(image.getbands())], dtype=output_type))


def decode_and_crop_jpeg(contents, crop_window, channels=0, ratio=1, fancy_upscaling=True,
                         try_recover_truncated=False, acceptable_fraction=1, dct_method="", name=None) -> Tensor:
    """Decode a JPEG file and keep ``crop_window = [y, x, rows, cols]``."""
    image = decode_jpeg(contents, channels, ratio)
    y, x, h, w = (int(v) for v in np.asarray(crop_window).ravel())
    rows, cols = image.shape[0], image.shape[1]
    if y < 0 or x < 0 or h <= 0 or w <= 0 or y + h > rows or x + w > cols:
        raise ValueError(f"decode_and_crop_jpeg: crop window {[y, x, h, w]} is not inside the image "
                         f"({rows}x{cols}).")
    return Tensor(np.ascontiguousarray(image.numpy()[y:y + h, x:x + w]))


def adjust_jpeg_quality(image, jpeg_quality, dct_method="", name=None) -> Tensor:
    """Round-trip through JPEG at ``jpeg_quality`` (0-100): the compression artefacts as an augmentation.
    Float images are converted to ``uint8`` and back."""
    tensor = image if isinstance(image, Tensor) else Tensor(np.asarray(image))
    dtype = tensor.dtype
    as_uint8 = convert_image_dtype(tensor, "uint8", saturate=True)
    decoded = decode_jpeg(encode_jpeg(as_uint8, quality=int(jpeg_quality)))
    return decoded if dtype == np.uint8 else convert_image_dtype(decoded, dtype)
