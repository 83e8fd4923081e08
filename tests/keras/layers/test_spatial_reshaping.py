import numpy as np
import pytest
from layer_helpers import layer_test

from featherflow.keras import layers
from featherflow.keras.layers.reshaping import interpolation_matrix

X4 = np.random.default_rng(0).uniform(-1, 1, (2, 3, 4, 2)).astype("float32")
X3 = np.random.default_rng(1).uniform(-1, 1, (2, 5, 3)).astype("float32")


@pytest.mark.parametrize("padding,pads", [(1, ((1, 1), (1, 1))), ((2, 1), ((2, 2), (1, 1))),
                                          (((1, 0), (0, 2)), ((1, 0), (0, 2)))])
def test_zero_padding_2d(padding, pads):
    ref = np.pad(X4, ((0, 0),) + pads + ((0, 0),))
    layer_test(layers.ZeroPadding2D, {"padding": padding}, input_data=X4, expected_output=ref,
               expected_output_shape=(None,) + ref.shape[1:])


def test_zero_padding_channels_first_and_1d():
    ref = np.pad(X4, ((0, 0), (0, 0), (1, 1), (2, 2)))
    layer_test(layers.ZeroPadding2D, {"padding": (1, 2), "data_format": "channels_first"}, input_data=X4,
               expected_output=ref, expected_output_shape=(None,) + ref.shape[1:])
    ref1 = np.pad(X3, ((0, 0), (2, 1), (0, 0)))
    layer_test(layers.ZeroPadding1D, {"padding": (2, 1)}, input_data=X3, expected_output=ref1,
               expected_output_shape=(None, 8, 3))
    with pytest.raises(ValueError, match="`padding` should have 2 elements"):
        layers.ZeroPadding2D((1, 2, 3))


def test_cropping():
    ref = X4[:, 1:, 1:3, :]
    layer_test(layers.Cropping2D, {"cropping": ((1, 0), (1, 1))}, input_data=X4, expected_output=ref,
               expected_output_shape=(None, 2, 2, 2))
    layer_test(layers.Cropping1D, {"cropping": (1, 2)}, input_data=X3, expected_output=X3[:, 1:3],
               expected_output_shape=(None, 2, 3))
    with pytest.raises(ValueError, match="smaller than the corresponding spatial dimension"):
        layers.Cropping2D(((2, 1), (0, 0)))(X4)
    assert layers.Cropping2D(1).compute_output_shape((None, 28, 28, 3)) == (None, 26, 26, 3)


def test_upsampling_nearest():
    ref = X4.repeat(2, axis=1).repeat(3, axis=2)
    layer_test(layers.UpSampling2D, {"size": (2, 3)}, input_data=X4, expected_output=ref,
               expected_output_shape=(None, 6, 12, 2))
    layer_test(layers.UpSampling1D, {"size": 3}, input_data=X3, expected_output=X3.repeat(3, axis=1),
               expected_output_shape=(None, 15, 3))
    ref_cf = X4.repeat(2, axis=2).repeat(2, axis=3)
    layer_test(layers.UpSampling2D, {"data_format": "channels_first"}, input_data=X4, expected_output=ref_cf,
               expected_output_shape=(None, 3, 8, 4))


def test_upsampling_bilinear_matches_half_pixel_formula():
    x = np.arange(4, dtype="float32").reshape(1, 1, 4, 1)
    out = layers.UpSampling2D((1, 2), interpolation="bilinear")(x).numpy()[0, 0, :, 0]
    # output j samples input position (j + 0.5) / 2 - 0.5, clamped to [0, 3]
    np.testing.assert_allclose(out, [0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0], rtol=1e-6)
    layer_test(layers.UpSampling2D, {"interpolation": "bilinear"}, input_data=X4,
               expected_output_shape=(None, 6, 8, 2))
    m = interpolation_matrix(3, 7, "bilinear", "float64")
    np.testing.assert_allclose(m.sum(axis=1), np.ones(7))
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling2D(interpolation="bicubic")
