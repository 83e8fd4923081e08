"""``keras.optimizers.experimental``: the tf.keras 2.9-2.10 names of the optimizers, here the same classes.

>>> from featherflow.keras.optimizers import experimental
>>> experimental.AdamW is __import__("featherflow").keras.optimizers.AdamW
True
"""

from featherflow.keras.optimizers.adadelta import Adadelta
from featherflow.keras.optimizers.adafactor import Adafactor
from featherflow.keras.optimizers.adagrad import Adagrad
from featherflow.keras.optimizers.adam import Adam
from featherflow.keras.optimizers.adamax import Adamax
from featherflow.keras.optimizers.adamw import AdamW
from featherflow.keras.optimizers.base import Optimizer
from featherflow.keras.optimizers.ftrl import Ftrl
from featherflow.keras.optimizers.nadam import Nadam
from featherflow.keras.optimizers.rmsprop import RMSprop
from featherflow.keras.optimizers.sgd import SGD

__all__ = ["Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Nadam", "Optimizer", "RMSprop",
           "SGD"]
