"""Inference programs: a model's forward pass on raw NumPy arrays, for ``predict`` and ``model(x)``.

A functional or Sequential model whose plan is a plain chain (one input, each layer feeding only
the next, one output) and whose layers are all called directly (no masks, dtype casts or activity
regularizers: ``GraphPlan`` decides that once) compiles, when each layer has a known array form, to
a list of ``array -> array`` callables. Outside a recording ``GradientTape`` and with the training
flag off, running them gives the very same numbers as the layers' ``call`` - the same NumPy
operations in the same order - without a ``Tensor`` per layer, the ops' argument conversion and
checks, or tape bookkeeping. Measured on the seed MLP (Flatten-Dense128-Dropout-Dense10) on the
2-core machine (``benchmarks/seed_mlp.py --only featherflow``, 3 interleaved rounds each): a
one-sample ``predict`` took 45-60 us on the Tensor path and 22-23 us with the program, whose bare
NumPy floor is ~18 us (``benchmarks/predict_latency.py``; the 784x128 product alone ~7 us).

Array forms (exact classes only: a subclass that overrides ``call`` keeps its own ``call``):

* ``Dense`` - ``x @ kernel + bias`` then the fused activation (ReLU, sigmoid, tanh) or softmax;
  weights are read at call time, so ``set_weights`` and the optimizer's flat buffers are seen.
  Any input the array form does not cover (another dtype, CuPy, a shape the op would refuse,
  another activation) runs ``layer.call`` on a Tensor: the layer's own numbers and errors.
* ``Flatten`` (channels-last) - a reshape to ``(batch, -1)``.
* ``Dropout`` - the identity (it only acts while training): left out of the program.

Shapes: ``(batch, ...)`` in, the model's output shape out; the batch axis must be non-empty.

>>> import numpy as np
>>> from featherflow import keras
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([keras.layers.Flatten(input_shape=(2, 2)), keras.layers.Dense(3, "relu"),
...                           keras.layers.Dropout(0.5), keras.layers.Dense(2, activation="softmax")])
>>> from featherflow.keras.models.functional import get_plan
>>> program = inference_program(get_plan(model))
>>> x = np.ones((1, 2, 2), "float32")
>>> out = x
>>> for fn in program.array_fns:
...     out = fn(out)
>>> np.array_equal(out, model(x, training=False).numpy())
True
"""

from __future__ import annotations

import numpy as np

from featherflow.backend.blas import _state as blas_state
from featherflow.backend.blas import use_threads_for
from featherflow.core import Tensor
from featherflow.ops.nn import _apply_fused

_ndarray = np.ndarray
# ndarray.max/.sum call these reductions through a Python wrapper; calling them directly saves that frame
_max_reduce, _sum_reduce, _exp = np.maximum.reduce, np.add.reduce, np.exp


class InferenceProgram:
    """The array callables of a chain plan.

    Attributes:
        array_fns: one ``fn(array) -> array`` per layer, in order.
        last_tensor_fn: the last layer's form returning the ``Tensor`` its ``call`` would (softmax outputs
            keep their logits as ``_logits``), or ``None`` when it has none (``model(x)`` then keeps the
            Tensor path); ``model(x)`` runs ``array_fns[:-1]`` (``head_fns``) and then this.
    """

    __slots__ = ("array_fns", "head_fns", "last_tensor_fn")

    def __init__(self, array_fns: list, last_tensor_fn):
        self.array_fns = array_fns
        self.head_fns = array_fns[:-1]
        self.last_tensor_fn = last_tensor_fn


def inference_program(plan) -> InferenceProgram | None:
    """The ``InferenceProgram`` of a ``GraphPlan`` (built once, kept on the plan), or ``None`` when the plan
    is not a chain of directly called layers with array forms."""
    try:
        return plan._inference_program
    except AttributeError:
        program = plan._inference_program = _build(plan)
        return program


def _build(plan) -> InferenceProgram | None:
    if not plan._is_chain:
        return None
    array_fns, last_tensor_fn = [], None
    for step in plan.steps:
        if not step.direct:
            return None
        forms = _array_forms(step.layer)
        if forms is None:
            return None
        if forms[0] is not _identity:  # nothing to run (a Dropout at inference)
            array_fns.append(forms[0])
        last_tensor_fn = forms[1]
    if not array_fns:
        array_fns.append(_identity)
    return InferenceProgram(array_fns, last_tensor_fn)


def _array_forms(layer):
    """``(array_fn, tensor_fn or None)`` for a layer with a known array form, else ``None``."""
    from featherflow.keras.layers.core import Dense
    from featherflow.keras.layers.regularization import Dropout
    from featherflow.keras.layers.reshaping import Flatten

    kind = type(layer)
    if kind.call is Dense.call and isinstance(layer, Dense):
        return _dense_forms(layer)
    if kind.call is Flatten.call and isinstance(layer, Flatten) and not layer._channels_first:
        return _flatten, None
    if kind.call is Dropout.call and isinstance(layer, Dropout):
        return _identity, None
    return None


def _identity(a):
    return a


def _flatten(a):
    # ops.reshape(inputs, (batch, -1)) as Flatten.call does; the batch axis is never empty here
    return a.reshape(a.shape[0], -1)


def _softmax(z):
    """``ops.nn._softmax_array(z, -1)`` with the same ufuncs in the same order (bit-identical results).

    One row (one sample) reduces over the whole array: the same elements through the same reduction
    loop, without the axis bookkeeping and broadcasting of a ``(1, 1)`` result (~1.5 us of 9 measured).
    """
    if z.shape[0] == 1 and z.ndim == 2:
        e = z - _max_reduce(z, axis=None)
        _exp(e, out=e)
        e /= _sum_reduce(e, axis=None)
        return e
    e = z - _max_reduce(z, axis=-1, keepdims=True)
    _exp(e, out=e)
    e /= _sum_reduce(e, axis=-1, keepdims=True)
    return e


def _tensor_value(out):
    return out.value if isinstance(out, Tensor) else np.asarray(out)


def _dense_forms(layer):
    from featherflow.keras import activations

    softmax = activations.softmax

    def arrays(a):
        """The layer's arrays when the array form covers ``a``: ``(kernel, bias or None, fused)``, else None.

        ``fused`` is the fused activation (``None``, ``"relu"``, ...) or ``False`` for softmax after a linear
        dense; anything else (another activation, dtype, CuPy, a shape ops.dense refuses) gets ``None``.
        """
        kernel = layer.kernel.value
        bias = layer.bias
        bv = None if bias is None else bias.value
        fused = layer._fused_activation
        if type(a) is _ndarray and type(kernel) is _ndarray and a.dtype == kernel.dtype and a.ndim >= 2 and \
                kernel.ndim == 2 and a.shape[-1] == kernel.shape[0] and \
                (bv is None or (type(bv) is _ndarray and bv.dtype == kernel.dtype)) and \
                (fused is not False or layer.activation is softmax):
            return kernel, bv, fused
        return None

    def linear(a, kernel, bv, fused):
        # The arithmetic of ops.dense, in its order (see featherflow/ops/nn.py): same numbers.
        x2 = a.reshape(-1, kernel.shape[0]) if a.ndim != 2 else a
        if blas_state["active"]:
            use_threads_for(x2.shape[0] * kernel.shape[0] * kernel.shape[1])
        z = x2 @ kernel
        if bv is not None:
            z += bv
        z = _apply_fused(z, fused)
        if a.ndim != 2:
            z = z.reshape(a.shape[:-1] + (kernel.shape[1],))
        return z

    bias_row = [(None, None)]  # (bias, its (1, units) view): adding a same-rank array is ~2x cheaper

    def pre(a):
        """The output array, before the softmax for a softmax layer; ``None`` when ``layer.call`` must run."""
        # arrays() and linear() written out for the common 2-D case: this runs for every Dense per call
        kernel = layer.kernel.value
        bias = layer.bias
        bv = None if bias is None else bias.value
        fused = layer._fused_activation
        if type(a) is not _ndarray or a.ndim != 2 or type(kernel) is not _ndarray or a.dtype != kernel.dtype or \
                kernel.ndim != 2 or a.shape[1] != kernel.shape[0] or \
                (bv is not None and (type(bv) is not _ndarray or bv.dtype != kernel.dtype)) or \
                (fused is False and layer.activation is not softmax):
            found = arrays(a)  # inputs of rank > 2, or None: the layer's own call
            return None if found is None else linear(a, *found)
        if blas_state["active"]:
            use_threads_for(a.shape[0] * kernel.shape[0] * kernel.shape[1])
        z = a @ kernel
        if bv is not None:
            source, row = bias_row[0]
            if source is not bv:  # a new bias array (set by the optimizer's flat buffers): one pair, one store
                row = bv.reshape(1, -1)
                bias_row[0] = (bv, row)
            z += row
        return _apply_fused(z, fused)

    def array_fn(a):
        z = pre(a)
        if z is None:
            return _tensor_value(layer.call(Tensor(a)))
        return _softmax(z) if layer._fused_activation is False else z

    def tensor_fn(a):
        z = pre(a)
        if z is None:
            return layer.call(Tensor(a))
        if layer._fused_activation is not False:
            return Tensor(z)
        result = Tensor(_softmax(z))
        result._logits = Tensor(z)  # as ops.softmax: a following cross-entropy uses the logits
        return result

    return array_fn, tensor_fn
