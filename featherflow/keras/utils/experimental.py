"""``keras.utils.experimental``: ``DatasetCreator``, a function that makes the training dataset when ``fit``
asks for it (tf.keras's input for distributed training), and the ``InputContext`` it receives.

featherflow trains in one process: the context says one input pipeline and one replica.

>>> import numpy as np
>>> import featherflow as tf
>>> from featherflow import keras
>>> def dataset_fn(input_context):
...     batch = input_context.get_per_replica_batch_size(8)
...     data = tf.data.Dataset.from_tensor_slices((np.ones((16, 2)), np.ones((16, 1))))
...     return data.shard(input_context.num_input_pipelines, input_context.input_pipeline_id).batch(batch).repeat()
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> _ = model.fit(DatasetCreator(dataset_fn), epochs=1, steps_per_epoch=2, verbose=0)
"""

from __future__ import annotations


class InputContext:
    """Where the input pipeline runs: ``num_input_pipelines``, ``input_pipeline_id``, ``num_replicas_in_sync``."""

    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size: int) -> int:
        """``global_batch_size`` split over the replicas (it must divide evenly)."""
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"The `global_batch_size` {global_batch_size} is not divisible by "
                             f"`num_replicas_in_sync` {self.num_replicas_in_sync}")
        return global_batch_size // self.num_replicas_in_sync


class DatasetCreator:
    """Wrap ``dataset_fn(input_context) -> tf.data.Dataset`` for ``fit`` (give ``steps_per_epoch``).

    Args:
        dataset_fn: the function returning the dataset.
        input_options: accepted for compatibility (TensorFlow's ``tf.distribute.InputOptions``).
    """

    _is_dataset_creator = True

    def __init__(self, dataset_fn, input_options=None):
        if not callable(dataset_fn):
            raise TypeError("`dataset_fn` for `DatasetCreator` must be a `callable`.")
        self.dataset_fn = dataset_fn
        self.input_options = input_options

    def __call__(self, *args, **kwargs):
        from featherflow.data import Dataset  # the tf.data half sits below keras

        dataset = self.dataset_fn(*args, **kwargs)
        if not isinstance(dataset, Dataset):
            raise TypeError("The `callable` provided to `DatasetCreator` must return a Dataset.")
        return dataset
