"""Legacy keras.preprocessing.image: apply_affine_transform against SciPy (what tf.keras calls), the random
helpers, ImageDataGenerator (flow, flow_from_directory, flow_from_dataframe, standardize, fit) on real image
files, and training a model from its iterators."""

import numpy as np
import pytest

from featherflow import keras
from featherflow.keras.preprocessing import image as kimage

PIL = pytest.importorskip("PIL.Image")


def _scipy_reference(x, kwargs, mode, order, cval=0.0):
    """tf.keras's apply_affine_transform: the composed matrix through scipy.ndimage.affine_transform."""
    ndimage = pytest.importorskip("scipy.ndimage")
    matrix = None
    for part in kimage.apply_affine_transform.__globals__["_parts"](**kwargs):
        matrix = part if matrix is None else matrix @ part
    matrix = kimage.transform_matrix_offset_center(matrix, x.shape[0], x.shape[1])
    matrix[:, [0, 1]] = matrix[:, [1, 0]]
    matrix[[0, 1]] = matrix[[1, 0]]
    channels = [ndimage.affine_transform(x[:, :, c], matrix[:2, :2], matrix[:2, 2], order=order, mode=mode,
                                         cval=cval) for c in range(x.shape[2])]
    return np.stack(channels, axis=-1)


@pytest.mark.parametrize("mode", ["nearest", "constant", "reflect", "wrap"])
@pytest.mark.parametrize("order", [0, 1])
def test_apply_affine_transform_matches_scipy(mode, order):
    rng = np.random.default_rng(0)
    for _ in range(6):
        x = rng.uniform(size=(rng.integers(4, 10), rng.integers(4, 10), 2))
        kwargs = dict(theta=rng.uniform(-60, 60), tx=rng.uniform(-3, 3), ty=rng.uniform(-3, 3),
                      shear=rng.uniform(-20, 20), zx=rng.uniform(0.6, 1.5), zy=rng.uniform(0.6, 1.5))
        out = kimage.apply_affine_transform(x, **kwargs, row_axis=0, col_axis=1, channel_axis=2, fill_mode=mode,
                                            cval=0.25, order=order)
        np.testing.assert_allclose(out, _scipy_reference(x, kwargs, mode, order, 0.25), atol=1e-12)
        first = kimage.apply_affine_transform(x.transpose(2, 0, 1), **kwargs, fill_mode=mode, cval=0.25, order=order)
        np.testing.assert_allclose(first.transpose(1, 2, 0), out, atol=1e-12)


def test_apply_affine_transform_rules():
    x = np.arange(12, dtype="float32").reshape(3, 4, 1)
    same = kimage.apply_affine_transform(x, row_axis=0, col_axis=1, channel_axis=2)
    assert same is x  # nothing to do
    shifted = kimage.apply_affine_transform(x, ty=1, row_axis=0, col_axis=1, channel_axis=2, fill_mode="constant")
    # after tf.keras's axis swap for (rows, cols, channels) images, `ty` moves along the first (row) axis
    np.testing.assert_array_equal(shifted[:2, :, 0], x[1:, :, 0])
    assert shifted.dtype == np.float32 and (shifted[2] == 0).all()
    pytest.importorskip("scipy")
    spline = kimage.apply_affine_transform(x, theta=30, row_axis=0, col_axis=1, channel_axis=2, order=3)
    assert spline.shape == x.shape
    with pytest.raises(ValueError, match="distinct"):
        kimage.apply_affine_transform(x, theta=3, row_axis=0, col_axis=0, channel_axis=2)
    with pytest.raises(ValueError, match="2D images"):
        kimage.apply_affine_transform(x[..., 0], theta=3)


def test_random_helpers_follow_numpys_global_seed():
    x = np.random.default_rng(1).uniform(size=(1, 6, 7))
    for fn, args in [(kimage.random_rotation, (30,)), (kimage.random_shift, (0.2, 0.3)),
                     (kimage.random_shear, (20,)), (kimage.random_zoom, ((0.7, 1.2),)),
                     (kimage.random_channel_shift, (0.3,))]:
        np.random.seed(5)
        a = fn(x, *args)
        np.random.seed(5)
        np.testing.assert_array_equal(a, fn(x, *args))
        assert a.shape == x.shape and not np.array_equal(a, x)
    shifted = kimage.apply_channel_shift(np.array([[[0.0, 1.0]], [[0.5, 0.2]]]), 0.6, channel_axis=2)
    np.testing.assert_allclose(shifted, [[[0.6, 1.0]], [[1.0, 0.8]]])
    with pytest.raises(ValueError, match="zoom_range"):
        kimage.random_zoom(x, (0.5,))


def test_brightness_uses_pil_enhance():
    from PIL import ImageEnhance

    x = np.random.default_rng(2).integers(0, 256, size=(5, 6, 3)).astype("float32")
    out = kimage.apply_brightness_shift(x, 0.5, scale=False)
    expected = np.asarray(ImageEnhance.Brightness(PIL.fromarray(x.astype("uint8"))).enhance(0.5), "float32")
    np.testing.assert_array_equal(out, expected)
    np.random.seed(0)
    assert kimage.random_brightness(x, (0.1, 0.2), scale=False).max() < x.max() * 0.21 + 1


def test_flow_batches_shuffle_and_seed():
    x = np.arange(10 * 2 * 2 * 1, dtype="float32").reshape(10, 2, 2, 1)
    y = np.arange(10)
    it = kimage.ImageDataGenerator().flow(x, y, batch_size=4, shuffle=False)
    assert len(it) == 3 and isinstance(it, keras.utils.Sequence)
    batches = [it[i] for i in range(3)]
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    np.testing.assert_array_equal(batches[1][0], x[4:8])
    # next() is endless and wraps
    seen = [next(it)[1] for _ in range(4)]
    assert seen[3].tolist() == [0, 1, 2, 3]
    # seed: NumPy's global generator reseeded with seed + batches seen, then one permutation per epoch
    np.random.seed(3)
    expected = np.random.permutation(10)[:5].tolist()
    assert next(kimage.ImageDataGenerator().flow(x, y, batch_size=5, seed=3))[1].tolist() == expected
    weights = np.linspace(0, 1, 10)
    bx, by, bw = kimage.ImageDataGenerator().flow(x, y, sample_weight=weights, shuffle=False, batch_size=3)[1]
    np.testing.assert_allclose(bw, weights[3:6])
    (images, extra), _ = kimage.ImageDataGenerator().flow((x, y * 10), y, shuffle=False, batch_size=2)[0]
    assert extra.tolist() == [0, 10]
    only_x = kimage.ImageDataGenerator().flow(x, batch_size=4, shuffle=False)[0]
    assert isinstance(only_x, np.ndarray) and only_x.shape == (4, 2, 2, 1)


def test_flow_validation_subsets():
    x = np.zeros((10, 2, 2, 1), "float32")
    y = np.array([0, 1] * 5)
    gen = kimage.ImageDataGenerator(validation_split=0.3)
    assert gen.flow(x, y, subset="validation").n == 3 and gen.flow(x, y, subset="training").n == 7
    with pytest.raises(ValueError, match="different number of classes"):
        gen.flow(x, np.sort(y), subset="training")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        kimage.ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="rank 4"):
        gen.flow(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="same length"):
        gen.flow(x, y[:3])


def test_standardize_and_fit():
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, size=(50, 4, 4, 3)).astype("float32")
    gen = kimage.ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    with pytest.warns(UserWarning, match="hasn't been fit"):
        gen.standardize(x[0].copy())
    gen.fit(x)
    np.testing.assert_allclose(gen.mean.ravel(), x.mean(axis=(0, 1, 2)), rtol=1e-5)
    out = np.stack([gen.standardize(v.copy()) for v in x])
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-4)
    sample = kimage.ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True, rescale=0.5)
    one = sample.standardize(x[0].copy())
    assert abs(one.mean()) < 1e-5 and abs(one.std() - 1) < 1e-4
    with pytest.warns(UserWarning, match="overrides setting of `featurewise_center`"):
        zca = kimage.ImageDataGenerator(zca_whitening=True)
    small = rng.normal(size=(200, 2, 2, 1)).astype("float32") @ np.ones((1, 1), "float32")
    small[..., 0] += small[:, :1, :1, 0]  # correlated pixels
    zca.fit(small)
    white = np.stack([zca.standardize(v.copy()) for v in small]).reshape(200, -1)
    np.testing.assert_allclose(np.cov(white.T, bias=True), np.eye(4), atol=0.05)
    pre = kimage.ImageDataGenerator(preprocessing_function=lambda v: v * 0 + 7)
    assert (pre.standardize(x[0].copy()) == 7).all()


def test_random_transform_options():
    gen = kimage.ImageDataGenerator(rotation_range=20, width_shift_range=3, height_shift_range=[1, 2],
                                    shear_range=10, zoom_range=0.2, channel_shift_range=0.5, horizontal_flip=True,
                                    vertical_flip=True, brightness_range=(0.5, 1.5))
    params = gen.get_random_transform((8, 9, 3), seed=4)
    assert params == gen.get_random_transform((8, 9, 3), seed=4)
    assert abs(params["theta"]) <= 20 and abs(params["ty"]) < 3 and abs(params["tx"]) in (1, 2)
    assert 0.8 <= params["zx"] <= 1.2 and 0.5 <= params["brightness"] <= 1.5
    frac = kimage.ImageDataGenerator(width_shift_range=0.25).get_random_transform((8, 12, 3), seed=1)
    assert abs(frac["ty"]) <= 3
    x = np.random.default_rng(5).uniform(0, 255, size=(8, 9, 3)).astype("float32")
    flipped = kimage.ImageDataGenerator().apply_transform(x, {"flip_horizontal": True, "flip_vertical": True})
    np.testing.assert_array_equal(flipped, x[::-1, ::-1])
    assert gen.random_transform(x, seed=2).shape == x.shape
    with pytest.raises(ValueError, match="zoom_range"):
        kimage.ImageDataGenerator(zoom_range=(0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="brightness_range"):
        kimage.ImageDataGenerator(brightness_range=0.5)
    with pytest.raises(ValueError, match="data_format"):
        kimage.ImageDataGenerator(data_format="NHWC")


def _write_images(root, classes=("cats", "dogs"), per_class=(3, 2), size=(10, 12)):
    rng = np.random.default_rng(6)
    for name, count in zip(classes, per_class):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(count):
            image = PIL.fromarray(rng.integers(0, 256, size=size + (3,)).astype("uint8"))
            image.save(folder / f"{i}.{'png' if i % 2 == 0 else 'jpg'}")
        (folder / "notes.txt").write_text("not an image")


def test_flow_from_directory(tmp_path, capsys):
    _write_images(tmp_path)
    gen = kimage.ImageDataGenerator(rescale=1 / 255, validation_split=0.5)
    it = gen.flow_from_directory(str(tmp_path), target_size=(8, 6), batch_size=2, shuffle=False)
    assert "Found 5 images belonging to 2 classes." in capsys.readouterr().out
    assert it.class_indices == {"cats": 0, "dogs": 1}
    assert it.filenames == ["cats/0.png", "cats/1.jpg", "cats/2.png", "dogs/0.png", "dogs/1.jpg"]
    assert it.classes.tolist() == [0, 0, 0, 1, 1] and len(it) == 3
    bx, by = it[0]
    assert bx.shape == (2, 8, 6, 3) and by.tolist() == [[1, 0], [1, 0]] and 0 <= bx.min() and bx.max() <= 1
    expected = np.asarray(PIL.open(tmp_path / "cats" / "0.png").resize((6, 8), PIL.Resampling.NEAREST)) / 255
    np.testing.assert_allclose(bx[0], expected, atol=1e-6)
    gray = gen.flow_from_directory(str(tmp_path), target_size=(4, 4), color_mode="grayscale", class_mode="sparse")
    x, y = gray[0]
    assert x.shape[1:] == (4, 4, 1) and set(y.tolist()) <= {0.0, 1.0}
    assert gen.flow_from_directory(str(tmp_path), target_size=(4, 4), class_mode=None, shuffle=False)[0].shape == \
        (5, 4, 4, 3)
    auto = gen.flow_from_directory(str(tmp_path), target_size=(4, 4), class_mode="input", batch_size=2)[0]
    np.testing.assert_array_equal(auto[0], auto[1])
    val = gen.flow_from_directory(str(tmp_path), target_size=(4, 4), subset="validation")
    train = gen.flow_from_directory(str(tmp_path), target_size=(4, 4), subset="training")
    assert val.filenames == ["cats/0.png", "dogs/0.png"] and val.samples + train.samples == 5
    saved = tmp_path / "augmented"
    saved.mkdir()
    gen.flow_from_directory(str(tmp_path), target_size=(4, 4), classes=["dogs"], batch_size=2,
                            save_to_dir=str(saved), save_prefix="aug")[0]
    assert len(list(saved.glob("aug_*.png"))) == 2
    with pytest.raises(ValueError, match="class_mode"):
        gen.flow_from_directory(str(tmp_path), class_mode="onehot")
    with pytest.raises(ValueError, match="color mode"):
        gen.flow_from_directory(str(tmp_path), color_mode="cmyk")
    with pytest.raises(ValueError, match="existing directory"):
        gen.flow_from_directory(str(tmp_path / "missing"))


def test_flow_from_dataframe(tmp_path):
    pd = pytest.importorskip("pandas")
    _write_images(tmp_path)
    df = pd.DataFrame({"filename": ["cats/0.png", "dogs/0.png", "cats/1.jpg", "missing.png"],
                       "class": ["cat", "dog", "cat", "dog"], "tags": [["a", "b"], ["b"], ["a"], ["a"]],
                       "score": [0.5, 1.5, 2.5, 3.5]})
    gen = kimage.ImageDataGenerator()
    with pytest.warns(UserWarning, match="invalid image filename"):
        it = gen.flow_from_dataframe(df, str(tmp_path), target_size=(5, 5), shuffle=False, batch_size=3)
    assert it.class_indices == {"cat": 0, "dog": 1} and it.n == 3
    x, y = it[0]
    assert x.shape == (3, 5, 5, 3) and y.tolist() == [[1, 0], [0, 1], [1, 0]]
    multi = gen.flow_from_dataframe(df.iloc[:3], str(tmp_path), y_col="tags", target_size=(5, 5), shuffle=False)
    assert multi[0][1].tolist() == [[1, 1], [0, 1], [1, 0]]
    raw = gen.flow_from_dataframe(df.iloc[:3], str(tmp_path), y_col="score", class_mode="raw", target_size=(5, 5),
                                  shuffle=False, weight_col="score")
    _, ry, rw = raw[0]
    np.testing.assert_allclose(ry, [0.5, 1.5, 2.5])
    np.testing.assert_allclose(rw, ry)
    with pytest.raises(ValueError, match="class_mode"):
        gen.flow_from_dataframe(df, str(tmp_path), class_mode="nope")


def test_image_file_helpers(tmp_path):
    rgb = np.random.default_rng(7).integers(0, 256, size=(6, 8, 3)).astype("float32")
    path = tmp_path / "a.png"
    keras.utils.save_img(path, rgb, scale=False)
    image = keras.utils.load_img(path)
    assert image.size == (8, 6) and image.mode == "RGB"
    np.testing.assert_array_equal(keras.utils.img_to_array(image), rgb)
    assert keras.utils.img_to_array(image, data_format="channels_first").shape == (3, 6, 8)
    assert keras.utils.load_img(path, color_mode="grayscale").mode == "L"
    assert keras.utils.load_img(str(path), target_size=(3, 4), interpolation="bilinear").size == (4, 3)
    kept = keras.utils.load_img(path, target_size=(6, 6), keep_aspect_ratio=True)
    np.testing.assert_array_equal(keras.utils.img_to_array(kept), rgb[:, 1:7])
    shifted = rgb / 255.0 - 3.0
    scaled = keras.utils.img_to_array(keras.utils.array_to_img(shifted))  # scale=True: min..max -> 0..255
    expected = (shifted - shifted.min()) / (shifted.max() - shifted.min()) * 255
    np.testing.assert_array_equal(scaled, expected.astype("uint8"))
    assert keras.utils.array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode == "I"
    with pytest.warns(UserWarning, match="JPG format does not support RGBA"):
        keras.utils.save_img(tmp_path / "b.jpg", np.zeros((2, 2, 4)), file_format="jpeg")
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="interpolation"):
        keras.utils.load_img(path, target_size=(2, 2), interpolation="cubic")
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.load_img(path, color_mode="cmyk")
    with pytest.raises(TypeError, match="path-like"):
        keras.utils.load_img(42)


def test_training_from_the_generators(tmp_path):
    rng = np.random.default_rng(8)
    x = rng.uniform(0, 255, size=(32, 8, 8, 1)).astype("float32")
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype("float32")
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    datagen = kimage.ImageDataGenerator(rescale=1 / 255, rotation_range=10, horizontal_flip=True)
    history = model.fit(datagen.flow(x, y, batch_size=8, seed=1), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    _write_images(tmp_path / "data", size=(8, 8))
    flow = kimage.ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        str(tmp_path / "data"), target_size=(8, 8), color_mode="grayscale", class_mode="binary", batch_size=2)
    history = model.fit(flow, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
