"""``keras.layers``: every layer class (re-exports only)."""

from featherflow.keras.layers import experimental  # noqa: E402 - after the layers it re-exports
from featherflow.keras.layers.activation import ELU, Identity, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from featherflow.keras.layers.attention import AdditiveAttention, Attention
from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.conv_recurrent import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from featherflow.keras.layers.convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution1DTranspose,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
)
from featherflow.keras.layers.core import Activation, Dense, Masking
from featherflow.keras.layers.depthwise_conv import (
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from featherflow.keras.layers.discretization import Discretization
from featherflow.keras.layers.einsum_dense import EinsumDense
from featherflow.keras.layers.embedding import Embedding
from featherflow.keras.layers.group_normalization import GroupNormalization
from featherflow.keras.layers.hashing import HashedCrossing, Hashing
from featherflow.keras.layers.image_augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomHeight,
    RandomRotation,
    RandomTranslation,
    RandomWidth,
    RandomZoom,
)
from featherflow.keras.layers.input_layer import Input, InputLayer
from featherflow.keras.layers.input_spec import InputSpec
from featherflow.keras.layers.lambda_layer import Lambda
from featherflow.keras.layers.locally_connected import LocallyConnected1D, LocallyConnected2D
from featherflow.keras.layers.lookup import IntegerLookup, StringLookup
from featherflow.keras.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from featherflow.keras.layers.multi_head_attention import MultiHeadAttention
from featherflow.keras.layers.normalization import BatchNormalization, LayerNormalization, UnitNormalization
from featherflow.keras.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from featherflow.keras.layers.preprocessing import (
    CategoryEncoding,
    CenterCrop,
    Normalization,
    Rescaling,
    Resizing,
)
from featherflow.keras.layers.recurrent import GRU, LSTM, RNN, SimpleRNN
from featherflow.keras.layers.recurrent_cells import (
    AbstractRNNCell,
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
)
from featherflow.keras.layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from featherflow.keras.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Flatten,
    Permute,
    RepeatVector,
    Reshape,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from featherflow.keras.layers.reshaping_3d import Cropping3D, UpSampling3D, ZeroPadding3D
from featherflow.keras.layers.spectral_normalization import SpectralNormalization
from featherflow.keras.layers.text_vectorization import TextVectorization
from featherflow.keras.layers.wrappers import Bidirectional, TimeDistributed, Wrapper
from featherflow.keras.saving.serialization_lib import deserialize_layer as deserialize
from featherflow.keras.saving.serialization_lib import serialize_layer as serialize
