"""A small directory of class subdirectories holding PNG/JPEG/BMP/GIF images and text files, written the same
way by the tests and by ``make_dataset_reference.py`` (which records TensorFlow's datasets of it).

Only NumPy and Pillow are used, so the generator (run with TensorFlow) and the tests write identical files.
"""

from __future__ import annotations

import os

import numpy as np

CLASSES = {"cats": 3, "dogs": 2, "zebras": 2}
FORMATS = ["png", "jpg", "bmp", "gif", "png", "png", "jpeg"]
TEXTS = {"neg": ["awful, just awful", "boring"], "pos": ["a delight", "great cast", "loved it\nsecond line"]}


def write_images(root: str, png_only: bool = False) -> list:
    """Images of different sizes and aspect ratios (RGB, one grayscale, one RGBA) under ``root/<class>/``, in
    PNG, JPEG, BMP and GIF files (PNG only with ``png_only``: TensorFlow decodes BMP and GIF files to RGB only)."""
    from PIL import Image

    rng = np.random.RandomState(17)
    written = []
    index = 0
    for label, count in CLASSES.items():
        os.makedirs(os.path.join(root, label), exist_ok=True)
        for k in range(count):
            height, width = 6 + 3 * k, 9 - k
            pixels = rng.randint(0, 256, size=(height, width, 3)).astype(np.uint8)
            image = Image.fromarray(pixels)
            if index == 2:
                image = image.convert("L")
            elif index == 5:
                image = Image.fromarray(np.concatenate([pixels, np.full((height, width, 1), 128, np.uint8)], -1))
            fmt = "png" if png_only else FORMATS[index % len(FORMATS)]
            path = os.path.join(root, label, f"img_{k:02d}.{fmt}")
            image.save(path, quality=95) if fmt in ("jpg", "jpeg") else image.save(path)
            written.append(path)
            index += 1
    with open(os.path.join(root, "cats", "notes.txt"), "w") as f:  # not an image: skipped
        f.write("ignored")
    return written


def write_texts(root: str) -> None:
    for label, texts in TEXTS.items():
        os.makedirs(os.path.join(root, label), exist_ok=True)
        for k, text in enumerate(texts):
            with open(os.path.join(root, label, f"{k}.txt"), "w", encoding="utf-8") as f:
                f.write(text)
    os.makedirs(os.path.join(root, "pos", "nested"), exist_ok=True)
    with open(os.path.join(root, "pos", "nested", "deep.txt"), "w", encoding="utf-8") as f:
        f.write("found by the recursive walk")
