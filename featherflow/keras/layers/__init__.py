"""``keras.layers``: every layer class (re-exports only)."""

from featherflow.keras.layers.base import Layer
from featherflow.keras.layers.core import Dense
from featherflow.keras.layers.input_layer import Input, InputLayer
from featherflow.keras.layers.input_spec import InputSpec
