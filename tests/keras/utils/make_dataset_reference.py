"""Write ``dataset_reference.npz``: tf.keras's image/text datasets of the directories ``directory_fixture.py``
writes, for ``test_dataset_from_directory.py``.

Run ONCE in an environment with TensorFlow (never by the test suite)::

    /work/tfenv/bin/python tests/keras/utils/make_dataset_reference.py

The versions of TensorFlow and tf-keras that produced the file are stored under ``versions``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from directory_fixture import write_images, write_texts  # noqa: E402

OUT = Path(__file__).resolve().parent / "dataset_reference.npz"
CASES = {  # name: (directory, keyword arguments of image_dataset_from_directory); shuffle=False (TF's RNG differs)
    "rgb_bilinear": ("images", {"image_size": (4, 5)}),
    "grayscale_nearest": ("pngs", {"image_size": (3, 3), "color_mode": "grayscale", "interpolation": "nearest"}),
    "rgba_bicubic": ("pngs", {"image_size": (5, 4), "color_mode": "rgba", "interpolation": "bicubic"}),
    "crop_area": ("images", {"image_size": (4, 4), "crop_to_aspect_ratio": True, "interpolation": "area",
                             "label_mode": "categorical"}),
}


def main() -> None:
    data: dict = {"versions": np.array([tf.__version__, tf_keras.__version__])}
    with tempfile.TemporaryDirectory() as root:
        write_images(os.path.join(root, "images"))
        write_images(os.path.join(root, "pngs"), png_only=True)
        write_texts(os.path.join(root, "texts"))
        for name, (folder, kwargs) in CASES.items():
            ds = tf_keras.utils.image_dataset_from_directory(os.path.join(root, folder), batch_size=None,
                                                             shuffle=False, **kwargs)
            images, labels = zip(*ds.as_numpy_iterator())
            data[f"{name}/images"] = np.stack(images)
            data[f"{name}/labels"] = np.stack(labels)
            data[f"{name}/paths"] = np.array([os.path.relpath(p, root) for p in ds.file_paths])
        ds = tf_keras.utils.text_dataset_from_directory(os.path.join(root, "texts"), batch_size=None, shuffle=False,
                                                        max_length=12)
        texts, labels = zip(*ds.as_numpy_iterator())
        data["text/texts"] = np.array(texts, dtype=object).astype("S")
        data["text/labels"] = np.array(labels)
    np.savez_compressed(OUT, **data)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
