"""``keras.models.experimental.SharpnessAwareMinimization`` (Foret et al., 2021, "Sharpness-Aware Minimization for
Efficiently Improving Generalization"): train a model on the gradient taken at the worst nearby weights.

Each step (per part of the batch with ``num_batch_splits``): take the gradient ``g`` of the loss, move the
weights by ``rho * g / ||g||`` (the global norm), take the gradient again there, move back, and apply the
second gradients (summed over the parts) with the optimizer.

>>> import numpy as np
>>> from featherflow import keras
>>> inner = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> sam = SharpnessAwareMinimization(inner, rho=0.05)
>>> sam.compile(optimizer="sgd", loss="mse")
>>> _ = sam.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
"""

from __future__ import annotations

import numpy as np

from featherflow import ops
from featherflow.core import GradientTape
from featherflow.keras.models.data_adapter import unpack_x_y_sample_weight
from featherflow.keras.models.model import Model


def _split(value, parts):
    if value is None:
        return [None] * parts
    return np.array_split(value.numpy() if hasattr(value, "numpy") else np.asarray(value), parts)


class SharpnessAwareMinimization(Model):
    """Wrap ``model`` so that ``fit`` trains it with sharpness-aware minimization.

    Args:
        model: the model to train (its weights are the ones updated).
        rho: the radius of the weight perturbation.
        num_batch_splits: split each batch into this many parts, each perturbed on its own (``None``: one).
    """

    def __init__(self, model, rho=0.05, num_batch_splits=None, name=None):
        super().__init__(name=name)
        self.model = model
        self.rho = rho
        self.num_batch_splits = num_batch_splits

    def call(self, inputs, **kwargs):
        return self.model(inputs, **kwargs)

    def train_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        parts = self.num_batch_splits or 1
        pieces = zip(_split(x, parts), _split(y, parts), _split(sample_weight, parts)) if parts > 1 else \
            [(x, y, sample_weight)]
        variables = self.model.trainable_variables
        totals, predictions = None, []
        for x_part, y_part, weight_part in pieces:
            with GradientTape() as tape:
                pred = self(x_part)
                loss = self.compiled_loss(y_part, pred, weight_part)
            predictions.append(pred)
            gradients = tape.gradient(loss, variables)
            norm = np.sqrt(sum(float(np.sum(np.square(g.numpy()))) for g in gradients if g is not None))
            scale = self.rho / (norm + 1e-12)
            shifts = [None if g is None else g.numpy() * scale for g in gradients]
            for variable, shift in zip(variables, shifts):
                if shift is not None:
                    variable.assign_add(shift)
            with GradientTape() as tape:
                pred = self(x_part, training=True)
                loss = self.compiled_loss(y_part, pred, weight_part)
            gradients = tape.gradient(loss, variables)
            for variable, shift in zip(variables, shifts):
                if shift is not None:
                    variable.assign_sub(shift)
            totals = gradients if totals is None else [
                g if t is None else (t if g is None else t + g) for t, g in zip(totals, gradients)]
        self.optimizer.apply_gradients(zip(totals, variables))
        pred = predictions[0] if len(predictions) == 1 else ops.concat(predictions, axis=0)
        self.compiled_metrics.update_state(y, pred, sample_weight)
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        from featherflow.keras.saving.serialization_lib import serialize_keras_object

        return {"name": self.name, "model": serialize_keras_object(self.model), "rho": self.rho,
                "num_batch_splits": self.num_batch_splits}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from featherflow.keras.saving.serialization_lib import deserialize_keras_object

        config = dict(config)
        config["model"] = deserialize_keras_object(config["model"], custom_objects=custom_objects)
        return cls(**config)
