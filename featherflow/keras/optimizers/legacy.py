"""``keras.optimizers.legacy``: the pre-2.11 names, here the same optimizers.

featherflow has one optimizer implementation; the legacy namespace exists so code written for
``tf.keras.optimizers.legacy.Adam`` (which also accepts ``decay=``) keeps running.

>>> from featherflow.keras.optimizers import legacy
>>> legacy.SGD(learning_rate=0.1).get_config()["learning_rate"]
0.1
"""

from featherflow.keras.optimizers.adadelta import Adadelta
from featherflow.keras.optimizers.adagrad import Adagrad
from featherflow.keras.optimizers.adam import Adam
from featherflow.keras.optimizers.adamax import Adamax
from featherflow.keras.optimizers.base import Optimizer
from featherflow.keras.optimizers.ftrl import Ftrl
from featherflow.keras.optimizers.nadam import Nadam
from featherflow.keras.optimizers.rmsprop import RMSprop
from featherflow.keras.optimizers.sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "Adamax", "Ftrl", "Nadam", "Optimizer", "RMSprop", "SGD"]
