import image_reference
import numpy as np
import pytest
from gradcheck import check_gradient, random_array

from featherflow.image.transform import projective_transform, rotation_matrix, translation_matrix, zoom_matrix

tf_ref = image_reference.load()  # TF 2.21 outputs (tests/image/fixtures/tf_reference.npz)

FILL_MODES = ["reflect", "wrap", "constant", "nearest"]


def _matrices():
    image = tf_ref["transform/input"]
    h, w = image.shape[1:3]
    return {"rotation": rotation_matrix([0.3, -2.2], h, w),
            "zoom": zoom_matrix([[0.7, 1.3], [1.6, 0.8]], h, w),
            "translation": translation_matrix([[1.5, -2.3], [-9.2, 0.7]]),
            "projective": tf_ref["transform/projective/matrix"]}


def test_matrices_match_tf_keras():
    for name, matrix in _matrices().items():
        np.testing.assert_allclose(matrix, tf_ref[f"transform/{name}/matrix"], atol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", ["rotation", "zoom", "translation", "projective"])
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_transform_matches_tensorflow(name, fill_mode, interpolation):
    matrix = _matrices()[name]
    out = projective_transform(tf_ref["transform/input"], matrix, fill_mode=fill_mode, fill_value=0.5,
                               interpolation=interpolation)
    np.testing.assert_allclose(out.numpy(), tf_ref[f"transform/{name}/{fill_mode}/{interpolation}"], atol=1e-6)


def test_transform_output_shape_and_dtypes():
    image = tf_ref["transform/input"]
    out = projective_transform(image, _matrices()["zoom"], output_shape=[5, 11])
    np.testing.assert_allclose(out.numpy(), tf_ref["transform/zoom/output_shape_5x11"], atol=1e-6)
    as_int = projective_transform((image * 200).astype("int32"), translation_matrix([[1, 0], [0, 1]]),
                                  interpolation="nearest")
    assert as_int.dtype == np.int32
    np.testing.assert_array_equal(as_int.numpy()[0, :, 1:], (image * 200).astype("int32")[0, :, :-1])


def test_zero_projection_gives_fill_value():
    out = projective_transform(np.ones((1, 2, 3, 1), "float32"), [1, 0, 0, 0, 1, 0, 0, -1], fill_value=7.0)
    assert out.numpy()[0, 1, 0, 0] == 7.0  # k = c1 * y + 1 = 0 on row 1
    assert out.numpy()[0, 0, 0, 0] == 1.0


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_transform_gradient(fill_mode, interpolation):
    image = random_array((2, 5, 6, 2), seed=1)
    matrix = np.concatenate([rotation_matrix([0.4], 5, 6), zoom_matrix([[1.3, 0.6]], 5, 6)])
    check_gradient(lambda x: projective_transform(x, matrix, fill_mode=fill_mode, fill_value=0.3,
                                                  interpolation=interpolation), [image])


def test_transform_errors():
    with pytest.raises(ValueError, match="4-D"):
        projective_transform(np.zeros((3, 3, 1)), [1, 0, 0, 0, 1, 0, 0, 0])
    with pytest.raises(ValueError, match=r"\(batch, 8\)"):
        projective_transform(np.zeros((2, 3, 3, 1)), np.zeros((3, 8)))
    with pytest.raises(NotImplementedError, match="fill_mode"):
        projective_transform(np.zeros((1, 3, 3, 1)), [1, 0, 0, 0, 1, 0, 0, 0], fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="interpolation"):
        projective_transform(np.zeros((1, 3, 3, 1)), [1, 0, 0, 0, 1, 0, 0, 0], interpolation="bicubic")


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_compiled_kernel_matches_numpy_path(fill_mode, interpolation):
    from featherflow.ops import _kernels

    if not _kernels.available():
        pytest.skip("Numba is not installed")
    rng = np.random.default_rng(7)
    images = rng.uniform(size=(5, 9, 11, 3)).astype("float32")
    matrix = np.concatenate([rotation_matrix(rng.uniform(-3, 3, 2), 9, 11), zoom_matrix([[0.5, 1.7], [2.0, 0.4]], 9, 11),
                             [[0.9, 0.2, 0.5, -0.1, 1.1, -0.4, 0.01, -0.12]]])
    results = []
    for enabled in (False, True):
        _kernels.use_kernels(enabled)
        results.append(projective_transform(images, matrix, fill_mode=fill_mode, interpolation=interpolation,
                                            fill_value=0.3).numpy())
    np.testing.assert_allclose(results[1], results[0], atol=3e-7)
    # a watched input takes the NumPy path (it keeps what the backward pass needs)
    import featherflow as ff

    x = ff.constant(images)
    with ff.GradientTape() as tape:
        tape.watch(x)
        out = projective_transform(x, matrix, fill_mode=fill_mode, interpolation=interpolation)
    assert tape.gradient(out, x).shape == images.shape
