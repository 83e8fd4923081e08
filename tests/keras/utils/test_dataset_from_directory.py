"""image_dataset_from_directory, text_dataset_from_directory and split_dataset on datasets: elements equal to
tf.keras 2.21's (``dataset_reference.npz``, written once by ``make_dataset_reference.py``), file order, labels,
seeded shuffles and splits, and tf.keras's errors."""

import os
import subprocess
import sys

import numpy as np
import pytest
from directory_fixture import write_images, write_texts

import featherflow as tf
from featherflow import keras

REFERENCE = np.load(os.path.join(os.path.dirname(__file__), "dataset_reference.npz"), allow_pickle=False)
CASES = {
    "rgb_bilinear": ("images", {"image_size": (4, 5)}),
    "grayscale_nearest": ("pngs", {"image_size": (3, 3), "color_mode": "grayscale", "interpolation": "nearest"}),
    "rgba_bicubic": ("pngs", {"image_size": (5, 4), "color_mode": "rgba", "interpolation": "bicubic"}),
    "crop_area": ("images", {"image_size": (4, 4), "crop_to_aspect_ratio": True, "interpolation": "area",
                             "label_mode": "categorical"}),
}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    base = tmp_path_factory.mktemp("dirs")
    write_images(str(base / "images"))
    write_images(str(base / "pngs"), png_only=True)
    write_texts(str(base / "texts"))
    return str(base)


@pytest.mark.parametrize("case", sorted(CASES))
def test_images_equal_tf_keras(root, case):
    folder, kwargs = CASES[case]
    ds = keras.utils.image_dataset_from_directory(os.path.join(root, folder), batch_size=None, shuffle=False,
                                                  verbose=False, **kwargs)
    images, labels = zip(*ds.as_numpy_iterator())
    expected = REFERENCE[f"{case}/images"]
    assert np.stack(images).dtype == expected.dtype and np.stack(images).shape == expected.shape
    for image, want, path in zip(images, expected, ds.file_paths):
        if path.endswith((".jpg", ".jpeg")):  # two JPEG decoders (TensorFlow's, Pillow's) differ by a few levels
            assert np.abs(image - want).mean() < 2.5 and np.abs(image - want).max() < 10.0
        else:  # Pillow's grey conversion (ITU-R 601-2) can differ from libpng's by one level
            np.testing.assert_allclose(image, want, atol=1.0 if "color_mode" in kwargs else 1e-3)
    np.testing.assert_array_equal(np.stack(labels), REFERENCE[f"{case}/labels"])
    assert [os.path.relpath(p, root) for p in ds.file_paths] == REFERENCE[f"{case}/paths"].tolist()
    assert ds.class_names == ["cats", "dogs", "zebras"]


def test_batches_specs_and_seeded_shuffles(root):
    ds = keras.utils.image_dataset_from_directory(os.path.join(root, "images"), image_size=(4, 5), batch_size=3,
                                                  seed=5, verbose=False)
    assert ds.element_spec == (tf.TensorSpec([None, 4, 5, 3], tf.float32), tf.TensorSpec([None], tf.int32))
    assert len(ds) == 3
    epoch1 = [labels.tolist() for _, labels in ds.as_numpy_iterator()]
    epoch2 = [labels.tolist() for _, labels in ds.as_numpy_iterator()]
    assert sorted(sum(epoch1, [])) == sorted(sum(epoch2, [])) == [0, 0, 0, 1, 1, 2, 2]
    again = keras.utils.image_dataset_from_directory(os.path.join(root, "images"), image_size=(4, 5), batch_size=3,
                                                     seed=5, verbose=False)
    assert [labels.tolist() for _, labels in again.as_numpy_iterator()] == epoch1  # same seed, same order
    order = [os.path.relpath(p, root) for p in ds.file_paths]
    expected = REFERENCE["rgb_bilinear/paths"].tolist()
    np.random.RandomState(5).shuffle(expected)
    assert order == expected  # the file list is shuffled once with RandomState(seed), as in tf.keras


def test_validation_subsets_do_not_overlap(root, capsys):
    directory = os.path.join(root, "images")
    train, val = keras.utils.image_dataset_from_directory(directory, image_size=(4, 4), validation_split=0.3,
                                                          subset="both", seed=9)
    out = capsys.readouterr().out
    assert "Found 7 files belonging to 3 classes." in out
    assert "Using 5 files for training." in out and "Using 2 files for validation." in out
    assert len(train.file_paths) == 5 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)
    alone = keras.utils.image_dataset_from_directory(directory, image_size=(4, 4), validation_split=0.3,
                                                     subset="validation", seed=9, verbose=False)
    assert alone.file_paths == val.file_paths


def test_label_modes_and_labels_list(root):
    directory = os.path.join(root, "images")
    binary_dir = os.path.join(root, "texts")
    ds = keras.utils.text_dataset_from_directory(binary_dir, label_mode="binary", batch_size=None, shuffle=False,
                                                 verbose=False)
    assert [float(y[0]) for _, y in ds.as_numpy_iterator()] == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]
    assert ds.element_spec[1] == tf.TensorSpec([1], tf.float32)
    only_images = keras.utils.image_dataset_from_directory(directory, labels=None, image_size=(2, 2), batch_size=4,
                                                           shuffle=False, verbose=False)
    assert only_images.element_spec == tf.TensorSpec([None, 2, 2, 3], tf.float32)
    given = keras.utils.image_dataset_from_directory(directory, labels=[5, 4, 3, 2, 1, 0, 6], image_size=(2, 2),
                                                     batch_size=None, shuffle=False, verbose=False)
    assert [int(y) for _, y in given.as_numpy_iterator()] == [5, 4, 3, 2, 1, 0, 6]
    reordered = keras.utils.image_dataset_from_directory(directory, class_names=["zebras", "cats", "dogs"],
                                                         image_size=(2, 2), batch_size=None, shuffle=False,
                                                         verbose=False)
    assert [int(y) for _, y in reordered.as_numpy_iterator()] == [1, 1, 1, 2, 2, 0, 0]


def test_text_datasets_equal_tf_keras(root):
    ds = keras.utils.text_dataset_from_directory(os.path.join(root, "texts"), batch_size=None, shuffle=False,
                                                 max_length=12, verbose=False)
    texts, labels = zip(*ds.as_numpy_iterator())
    assert list(texts) == REFERENCE["text/texts"].tolist()
    assert list(labels) == REFERENCE["text/labels"].tolist()
    assert ds.element_spec == (tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32))
    batched = keras.utils.text_dataset_from_directory(os.path.join(root, "texts"), batch_size=4, seed=1,
                                                      verbose=False)
    assert [len(b[0]) for b in batched.as_numpy_iterator()] == [4, 2] and batched.class_names == ["neg", "pos"]


def test_errors_follow_tf_keras(root):
    images = os.path.join(root, "images")
    with pytest.raises(ValueError, match='there must be exactly 2 class_names'):
        keras.utils.image_dataset_from_directory(images, label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match="you must provide a `seed` argument"):
        keras.utils.image_dataset_from_directory(images, validation_split=0.2, subset="training", verbose=False)
    with pytest.raises(ValueError, match="If `subset` is set, `validation_split` must be set"):
        keras.utils.image_dataset_from_directory(images, subset="training", seed=1, verbose=False)
    with pytest.raises(ValueError, match="`color_mode` must be one of"):
        keras.utils.image_dataset_from_directory(images, color_mode="cmyk", verbose=False)
    with pytest.raises(ValueError, match="Expected the lengths of `labels` to match"):
        keras.utils.image_dataset_from_directory(images, labels=[0, 1], verbose=False)
    with pytest.raises(ValueError, match="No images found in directory"):
        keras.utils.image_dataset_from_directory(os.path.join(root, "texts"), verbose=False)
    with pytest.raises(ValueError, match="`class_names` passed did not match"):
        keras.utils.text_dataset_from_directory(os.path.join(root, "texts"), class_names=["a", "b"], verbose=False)
    with pytest.raises(ValueError, match="Could not find directory"):
        keras.utils.text_dataset_from_directory(os.path.join(root, "missing"), verbose=False)


def test_missing_pillow_names_the_extra(root):
    code = ("import sys; sys.modules['PIL'] = None\n"  # Pillow not installed: its import fails
            "from featherflow import keras\n"
            f"keras.utils.image_dataset_from_directory({os.path.join(root, 'images')!r}, verbose=False)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert 'pip install "featherflow[image]"' in result.stderr


def test_split_dataset_of_a_dataset_matches_tf_keras():
    ds = tf.data.Dataset.from_tensor_slices((np.arange(10), np.arange(10) * 2))
    left, right = keras.utils.split_dataset(ds, left_size=0.8, shuffle=True, seed=1)
    assert isinstance(left, tf.data.Dataset)
    assert [int(a) for a, _ in left.as_numpy_iterator()] == [6, 8, 9, 7, 5, 3, 0, 4]  # tf-keras 2.21's split
    assert [(int(a), int(b)) for a, b in right.as_numpy_iterator()] == [(1, 2), (2, 4)]
    left, right = keras.utils.split_dataset(ds.batch(4), left_size=0.5)
    assert [a.tolist() for a, _ in left.as_numpy_iterator()] == [[0, 1, 2, 3], [4]]
    assert left.element_spec[0] == tf.TensorSpec([None], tf.int64)
    with pytest.raises(ValueError, match="must be a finite dataset"):
        keras.utils.split_dataset(ds.repeat(), left_size=0.5)
