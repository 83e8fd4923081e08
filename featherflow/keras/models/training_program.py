"""Training programs: one ``fit`` step of a Dense chain as NumPy calls, without the tape.

The default training step records every op on a ``GradientTape`` and walks it backwards: per op a
``Tensor``, argument conversion, a backward closure and dictionary bookkeeping. For the models the
course and most small scripts train - a chain of ``Flatten``, ``Dense`` and ``Dropout`` layers ending
in a softmax (or logits) under a sparse categorical cross-entropy - that machinery costs as much as the
arithmetic. A ``TrainingProgram`` does the same step on raw arrays: the forward pass, the fused loss,
the backward pass written out per layer with each weight's gradient written straight into the
optimizer's flat gradient buffer, then ``optimizer.apply_flat()``, the loss tracker and the metrics.

Its arithmetic is the ops' own: ``featherflow/ops/array_kernels.py`` (dense forward and backward, the
sparse cross-entropy from logits, softmax), and the dropout masks come from the layer's own draw
(``layers.regularization.dropout_mask``), so a seeded ``fit`` gives bit-identical weights, losses and
metrics with or without it by construction (tested in ``tests/keras/models/test_training_program.py``).
Which models it covers is decided by ``chain.py`` (the structure) and the compiled loss
(``losses.probabilistic.sparse_categorical_mean_form``).
Anything outside the covered case falls back to the tape step, decided once per ``fit`` (the model,
loss, optimizer) and per batch (the arrays): sample or class weights, float labels, labels out of
range (the tape path raises Keras's error), another dtype or shape, CuPy arrays, regularizers, frozen
layers before trainable ones are all fine - they either work here or take the general path.

Measured on the seed MLP (Flatten-Dense128-Dropout-Dense10, Adam, batch 32; one process alternating
the two steps on the same batches, process time, 2-core machine): see ``docs/architecture.md``.

>>> import numpy as np
>>> from featherflow import keras
>>> keras.utils.set_random_seed(0)
>>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8, activation="relu"),
...                           keras.layers.Dropout(0.2), keras.layers.Dense(3, activation="softmax")])
>>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
>>> x, y = np.ones((2, 4), "float32"), np.array([0, 2])
>>> _ = model.train_on_batch(x, y)  # the first step builds the compiled loss and metrics
>>> variables = model.trainable_weights
>>> program = training_program(model, variables, model.optimizer.flat_gradient_views(variables))
>>> program.run(x, y, None)  # one step done
True
>>> program.run(x, np.array([0.0, 2.5]), None)  # float labels: the tape step's job
False
"""

from __future__ import annotations

import numpy as np

from featherflow.core import Tensor
from featherflow.keras.layers.regularization import dropout_mask
from featherflow.keras.models.chain import layer_chain
from featherflow.ops import array_kernels as kernels

ENABLED = [True]  # tests switch programs off to compare with the tape step
_ndarray = np.ndarray


class _DenseForm:
    __slots__ = ("layer", "fused", "activation_fn", "kernel_out", "bias_out", "needs_input_grad")

    def __init__(self, link, kernel_out, bias_out):
        self.layer = link.layer
        self.fused = link.fused
        self.activation_fn = link.activation_fn
        self.kernel_out = kernel_out
        self.bias_out = bias_out
        self.needs_input_grad = False


class _DropoutForm:
    __slots__ = ("layer",)

    def __init__(self, layer):
        self.layer = layer


class TrainingProgram:
    """One training step of a Dense/Flatten/Dropout chain under a sparse categorical cross-entropy.

    Build it with ``training_program``; ``run(x, y, sample_weight)`` does the step and returns
    ``True``, or returns ``False`` without touching anything when the batch is not covered.
    """

    def __init__(self, model, accepts, forms, dtype, classes, softmax_output):
        self._accepts = accepts
        self._forms = forms
        self._dtype = dtype
        self._one = np.ones((), dtype)
        self._classes = classes
        self._softmax_output = softmax_output
        self._apply_flat = model.optimizer.apply_flat
        self._tracker = model.compiled_loss.loss_tracker
        metrics = model.compiled_metrics
        self._update_metrics = metrics.update_state if metrics.has_metrics else None

    def run(self, x, y, sample_weight) -> bool:
        """One step on the batch ``(x, y)``; ``False`` (nothing done) when the batch is not covered."""
        if not ENABLED[0] or sample_weight is not None or type(x) is not _ndarray or type(y) is not _ndarray or \
                x.dtype != self._dtype or y.dtype.kind not in "iu" or not x.ndim or not self._accepts(x):
            return False
        n = x.shape[0]
        if not n or y.shape != (n,) and y.shape != (n, 1) or (self._classes == 1 and y.ndim == 1):
            return False
        labels = y.reshape(n).astype(np.int64, copy=False)
        if labels.min() < 0 or labels.max() >= self._classes:
            return False  # the tape step raises Keras's out-of-range error
        for form in self._forms:  # attributes a callback or PBT may change between steps
            if form.__class__ is _DenseForm:
                if form.layer.activation is not form.activation_fn:
                    return False
            elif form is not None and not 0 <= form.layer.rate < 1:
                return False
        self._step(x, labels, y, n)
        return True

    def _step(self, x, labels, y, n) -> None:
        saved = []  # per layer: its input and output (Dense), mask (Dropout) or input shape (Flatten)
        a = x
        for form in self._forms:
            if form.__class__ is _DenseForm:
                layer = form.layer
                bias = layer.bias
                z = kernels.dense_forward(a, layer.kernel.value, None if bias is None else bias.value, form.fused)
                saved.append((a, z))
                a = z
            elif form is None:  # Flatten (channels-last), as ops.reshape(x, (batch, -1))
                saved.append(a.shape)
                a = a.reshape(n, -1)
            else:  # Dropout: the layer's own draw and scaled mask, as Dropout.call
                layer = form.layer
                if layer.rate == 0:
                    saved.append(None)
                    continue
                mask = dropout_mask(layer, a.shape, a.dtype)
                saved.append(mask)
                a = a * mask
        logits = a
        # the loss as ops.nn.sparse_xent_mean, its gradient seeded with ones_like(loss) as the tape does
        rows, lse, per_row = kernels.sparse_xent_rows(logits, labels)
        loss = per_row.astype(self._dtype, copy=False).mean()
        g = kernels.sparse_xent_grad(logits, lse, rows, labels, self._one * (1.0 / n))
        self._backward(g, saved)
        self._apply_flat()
        self._tracker.update_state(loss, n)
        if self._update_metrics is not None:
            if self._softmax_output:
                y_pred = Tensor(kernels.softmax(logits, -1))
                y_pred._logits = Tensor(logits)
            else:
                y_pred = Tensor(logits)
            self._update_metrics(y, y_pred, None)

    def _backward(self, g, saved) -> None:
        forms = self._forms
        for index in range(len(forms) - 1, -1, -1):
            form = forms[index]
            if form.__class__ is _DenseForm:
                a, out = saved[index]
                g, _, _ = kernels.dense_backward(g, a, form.layer.kernel.value, out, form.fused,
                                                 need_input=form.needs_input_grad, need_kernel=False,
                                                 kernel_out=form.kernel_out, bias_out=form.bias_out)
                if g is None:
                    return
            elif form is None:
                g = g.reshape(saved[index])
            elif saved[index] is not None:
                g = g * saved[index]


def training_program(model, variables, views) -> TrainingProgram | None:
    """The ``TrainingProgram`` of a compiled model whose trainable ``variables`` have the flat gradient
    ``views``, or ``None`` when the model, loss or optimizer is not the covered case (see the module
    docstring)."""
    if views is None or len(views) != len(variables) or not variables:
        return None
    links = layer_chain(model)
    if links is None or model.losses:  # model.losses: add_loss losses and weight regularizers
        return None
    from featherflow.keras.losses.probabilistic import sparse_categorical_mean_form
    from featherflow.keras.models.functional import get_plan

    single = model.compiled_loss.single_loss() if model.compiled_loss is not None else None
    from_logits = None if single is None or single[1] is not None else sparse_categorical_mean_form(single[0])
    if from_logits is None:
        return None
    plan = get_plan(model)
    view_of = {id(v): out for v, out in zip(variables, views)}
    rank = len(plan.input_shapes[0])
    forms, seen, dtypes = [], set(), set()
    first_trained = None
    for index, link in enumerate(links):
        layer = link.layer
        if id(layer) in seen:
            return None
        seen.add(id(layer))
        if link.kind == "dense":
            kernel, bias = layer.kernel, layer.bias
            if rank != 2 or kernel.value.ndim != 2 or type(kernel.value) is not _ndarray or \
                    layer.compute_dtype != layer.dtype or (bias is not None and type(bias.value) is not _ndarray):
                return None
            if link.fused is False and index != len(links) - 1:
                return None  # a softmax (or another unfused activation) inside the chain
            dtypes.add(kernel.value.dtype)
            kernel_out = view_of.get(id(kernel))
            bias_out = None if bias is None else view_of.get(id(bias))
            if kernel_out is not None or bias_out is not None:
                first_trained = len(forms) if first_trained is None else first_trained
            forms.append(_DenseForm(link, kernel_out, bias_out))
        elif link.kind == "flatten":
            rank = 2
            forms.append(None)
        elif link.kind == "dropout" and layer.noise_shape is None:
            forms.append(_DropoutForm(layer))
        else:
            return None
    last = forms[-1] if forms else None
    if last.__class__ is not _DenseForm or first_trained is None or len(dtypes) != 1:
        return None
    written = {id(out) for form in forms if form.__class__ is _DenseForm for out in (form.kernel_out, form.bias_out)
               if out is not None}
    if len(written) != len(views):
        return None  # a trainable variable outside the chain's Dense layers: the tape step handles it
    dtype = dtypes.pop()
    if dtype.kind != "f" or np.dtype(plan.input_dtypes[0]) != dtype:
        return None
    for form in forms[first_trained + 1:]:
        if form.__class__ is _DenseForm:
            form.needs_input_grad = True
    if from_logits and last.fused is not None or not from_logits and links[-1].activation != "softmax":
        return None
    classes = last.layer.kernel.value.shape[1]
    return TrainingProgram(model, plan.accepts_single, forms, dtype, classes, not from_logits)
