"""An optimizer's saved variables in tf.keras 2.x's and Keras 3's layouts.

featherflow's ``optimizer.variables`` follow tf.keras 2.x: ``iterations``, the EMA averages (with
``use_ema``), then the slots (Adam: ``m0, v0, m1, v1, ...`` then amsgrad's ``vhat0, vhat1, ...``), one
per trainable variable in ``model.trainable_variables`` order. Keras 3 saves the same list with two
more entries: the ``learning_rate`` variable after ``iterations`` (unless the learning rate is a
schedule) and, for ``Nadam``, the running ``u_product`` last. Reading accepts both (the count tells
them apart) and restores the saved learning rate; ``.keras`` and ``.weights.h5`` files are written in
Keras 3's layout, legacy ``.h5`` files in tf.keras's.

>>> import numpy as np
>>> import featherflow as ff
>>> from featherflow.keras.saving import optimizer_state
>>> opt = ff.keras.optimizers.Adam(0.01)
>>> opt.build([ff.Variable(np.zeros(2, "float32"))])
>>> [np.shape(a) for a in optimizer_state.keras3_state(opt)]  # iterations, learning_rate, m, v
[(), (), (2,), (2,)]
"""

from __future__ import annotations

import numpy as np


def _has_lr_variable(optimizer) -> bool:
    from featherflow.keras.optimizers import schedules

    lr = getattr(optimizer, "_learning_rate", None)
    return not isinstance(lr, schedules.LearningRateSchedule) and not (callable(lr) and not hasattr(lr, "numpy"))


def _is_nadam(optimizer) -> bool:
    from featherflow.keras.optimizers import Nadam

    return isinstance(optimizer, Nadam)


def u_product(optimizer) -> float:
    """Keras 3's Nadam ``u_product`` after ``optimizer.iterations`` steps: ``prod_t beta_1 (1 - 0.5 * 0.96^t)``."""
    product = 1.0
    for t in range(1, int(np.asarray(optimizer.iterations.numpy())) + 1):
        product *= optimizer.beta_1 * (1.0 - 0.5 * 0.96 ** t)
    return product


def keras3_state(optimizer) -> list:
    """``optimizer``'s state as Keras 3 saves it (learning rate and Nadam's ``u_product`` included)."""
    state = optimizer.get_state()
    dtype = state[1].dtype if len(state) > 1 else np.float32
    if _has_lr_variable(optimizer):
        lr = np.asarray(optimizer.learning_rate.numpy(), dtype=np.float32)
        state = [state[0], lr, *state[1:]]
    if _is_nadam(optimizer):
        state.append(np.asarray(u_product(optimizer), dtype=dtype))
    return state


def to_featherflow(optimizer, values: list) -> list:
    """The featherflow state in ``values`` (either layout); a Keras 3 learning rate is applied to ``optimizer``.

    Raises:
        ValueError: the count matches neither layout for this optimizer and its variables.
    """
    expected = len(optimizer.variables)
    if len(values) == expected:
        return list(values)
    has_lr, nadam = _has_lr_variable(optimizer), _is_nadam(optimizer)
    if len(values) == expected + int(has_lr) + int(nadam) and getattr(optimizer, "_built", True):
        out = [values[0], *values[1 + int(has_lr): len(values) - int(nadam)]]
        if has_lr:
            learning_rate = np.asarray(values[1])
            if learning_rate.shape != () or learning_rate.dtype.kind != "f":
                raise ValueError(f"The saved learning rate must be a float scalar. Received shape "
                                 f"{learning_rate.shape}, dtype {learning_rate.dtype}.")
            optimizer.learning_rate = float(learning_rate)
        return out
    raise ValueError(
        f"Optimizer '{optimizer.name}' ({type(optimizer).__name__}) has {expected} variables for this model "
        f"(tf.keras layout; Keras 3 saves {expected + int(has_lr) + int(nadam)}), but the file holds {len(values)}. "
        "The model's trainable variables or the optimizer's options (amsgrad, momentum, centered, use_ema) differ "
        "from the saved ones.")
