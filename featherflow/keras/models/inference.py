"""Inference programs: a model's forward pass on raw NumPy arrays, for ``predict`` and ``model(x)``.

A functional or Sequential model that is a chain of layers with array forms (``chain.py`` decides: one
input, each layer feeding only the next, one output, every layer called directly) compiles to a list of
``array -> array`` callables over the shared kernels of ``featherflow/ops/array_kernels.py``. Outside a recording ``GradientTape`` and with the training
flag off, running them gives the very same numbers as the layers' ``call`` - the same NumPy
operations in the same order - without a ``Tensor`` per layer, the ops' argument conversion and
checks, or tape bookkeeping. Measured on the seed MLP (Flatten-Dense128-Dropout-Dense10) on the
2-core machine (``benchmarks/seed_mlp.py --only featherflow``, 3 interleaved rounds each): a
one-sample ``predict`` took 45-60 us on the Tensor path and 22-23 us with the program, whose bare
NumPy floor is ~18 us (``benchmarks/predict_latency.py``; the 784x128 product alone ~7 us).

Array forms (exact classes only: a subclass that overrides ``call`` keeps its own ``call``):

* ``Dense`` - ``array_kernels.dense_forward`` (the dense op's own arithmetic) with the fused activation
  (ReLU, sigmoid, tanh), then ``array_kernels.softmax`` for a softmax; weights are read at call time, so
  ``set_weights`` and the optimizer's flat buffers are seen. Any input the array form does not cover
  (another dtype, CuPy, a shape the op would refuse, another activation, an activation changed since the
  plan was built) runs ``layer.call`` on a Tensor: the layer's own numbers and errors.
* ``Flatten`` (channels-last) - a reshape to ``(batch, -1)``.
* ``Dropout`` and the noise layers - the identity (they only act while training): left out of the program.

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

from featherflow.core import Tensor
from featherflow.keras.models.chain import plan_chain
from featherflow.ops import array_kernels as kernels

_ndarray = np.ndarray


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
    """The ``InferenceProgram`` of a ``GraphPlan`` (built once, kept with the plan), or ``None`` when the plan
    is not a chain of layers with array forms."""
    try:
        return plan.derived["inference_program"]  # plan.memo, inlined: model(x) asks on every call
    except KeyError:
        return plan.memo("inference_program", _build)


def _build(plan) -> InferenceProgram | None:
    links = plan_chain(plan)
    if links is None:
        return None
    array_fns, last_tensor_fn = [], None
    for link in links:
        if link.kind == "dense":
            array_fn, last_tensor_fn = _dense_forms(link)
            array_fns.append(array_fn)
        elif link.kind == "flatten":
            array_fns.append(_flatten)
            last_tensor_fn = None
        elif link.kind in ("dropout", "noise"):  # the identity at inference: nothing to run
            last_tensor_fn = None
        else:
            return None
    if not array_fns:
        array_fns.append(_identity)
    return InferenceProgram(array_fns, last_tensor_fn)


def _identity(a):
    return a


def _flatten(a):
    # ops.reshape(inputs, (batch, -1)) as Flatten.call does; the batch axis is never empty here
    return a.reshape(a.shape[0], -1)


def _tensor_value(out):
    return out.value if isinstance(out, Tensor) else np.asarray(out)


def _dense_forms(link):
    """``(array_fn, tensor_fn)`` of a Dense link."""
    layer = link.layer
    fused = link.fused
    softmax_after = link.activation == "softmax"
    covered = fused is not False or softmax_after
    activation_fn = link.activation_fn
    bias_row = [(None, None)]  # (bias, its (1, units) view): adding a same-rank array is ~2x cheaper

    def pre(a):
        """The output array, before the softmax for a softmax layer; ``None`` when ``layer.call`` must run."""
        kernel = layer.kernel.value
        bias = layer.bias
        bv = None if bias is None else bias.value
        if type(a) is not _ndarray or type(kernel) is not _ndarray or a.dtype != kernel.dtype or a.ndim < 2 or \
                kernel.ndim != 2 or a.shape[-1] != kernel.shape[0] or not covered or \
                (bv is not None and (type(bv) is not _ndarray or bv.dtype != kernel.dtype)) or \
                layer.activation is not activation_fn:
            return None
        if a.ndim != 2:  # the dense op's reshape to rows and back
            z = kernels.dense_forward(a.reshape(-1, kernel.shape[0]), kernel, bv, fused)
            return z.reshape(a.shape[:-1] + (kernel.shape[1],))
        if bv is not None:
            source, row = bias_row[0]
            if source is not bv:  # a new bias array (set by the optimizer's flat buffers): one pair, one store
                row = bv.reshape(1, -1)
                bias_row[0] = (bv, row)
            bv = row
        return kernels.dense_forward(a, kernel, bv, fused)

    def array_fn(a):
        z = pre(a)
        if z is None:
            return _tensor_value(layer.call(Tensor(a)))
        return kernels.softmax(z) if softmax_after else z

    def tensor_fn(a):
        z = pre(a)
        if z is None:
            return layer.call(Tensor(a))
        if not softmax_after:
            return Tensor(z)
        result = Tensor(kernels.softmax(z))
        result._logits = Tensor(z)  # as ops.softmax: a following cross-entropy uses the logits
        return result

    return array_fn, tensor_fn
