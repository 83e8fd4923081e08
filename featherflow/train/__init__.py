"""``tf.train``: checkpoints of variables and the objects that hold them (re-exports only).

``Checkpoint`` and its restore statuses live in ``checkpoint``, ``CheckpointManager`` and the state
file in ``checkpoint_management``, the checkpoint readers and views in ``readers``,
``ExponentialMovingAverage`` in ``moving_averages``.

>>> import os, tempfile
>>> import featherflow as tf
>>> from featherflow import keras
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), tempfile.mkdtemp(), max_to_keep=3)
>>> os.path.basename(manager.save())
'ckpt-1'
"""

from featherflow.io.example_proto import (
    BytesList,
    Example,
    Feature,
    FeatureList,
    FeatureLists,
    Features,
    FloatList,
    Int64List,
    SequenceExample,
)
from featherflow.train import experimental
from featherflow.train.checkpoint import Checkpoint, CheckpointOptions
from featherflow.train.checkpoint_management import (
    CheckpointManager,
    checkpoints_iterator,
    get_checkpoint_state,
    latest_checkpoint,
)
from featherflow.train.coordinator import Coordinator
from featherflow.train.moving_averages import ExponentialMovingAverage
from featherflow.train.readers import CheckpointView, TrackableView, list_variables, load_checkpoint, load_variable

__all__ = ["BytesList", "Example", "Feature", "FeatureList", "FeatureLists", "Features", "FloatList", "Int64List",
           "SequenceExample", "Checkpoint", "CheckpointManager", "CheckpointOptions", "CheckpointView", "Coordinator",
           "ExponentialMovingAverage",
           "TrackableView", "checkpoints_iterator", "experimental", "get_checkpoint_state", "latest_checkpoint",
           "list_variables", "load_checkpoint", "load_variable"]
