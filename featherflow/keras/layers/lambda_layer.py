"""``Lambda``: wrap an arbitrary function of tensors as a layer.

The function should use featherflow ops so gradients flow through it. ``get_config`` stores a
named function by its name and module; a ``lambda`` is stored by name only and cannot be rebuilt
from a config (loading it would mean executing stored code, which featherflow refuses): define a
named function, or pass the function in ``custom_objects`` when loading.

>>> from featherflow import keras
>>> import featherflow as ff
>>> layer = keras.layers.Lambda(lambda x: ff.square(x))
>>> layer([[2.0, 3.0]]).numpy()
array([[4., 9.]], dtype=float32)
"""

from __future__ import annotations

import inspect
import sys

from featherflow.keras.layers.base import Layer


def _describe(fn):
    """``(name, type, module)`` for a function stored in a config."""
    if fn is None:
        return None, None, None
    if isinstance(fn, (tuple, list)):
        return list(fn), "raw", None
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    kind = "lambda" if getattr(fn, "__name__", "") == "<lambda>" else "function"
    return name, kind, getattr(fn, "__module__", None)


def _resolve(name, kind, module, custom_objects, what):
    """The function a config names: from ``custom_objects``/the registry, else an imported module."""
    if kind in (None, "raw") or name is None:
        return tuple(name) if isinstance(name, list) else name
    if kind == "lambda":
        raise ValueError(
            f"Requested the deserialization of a Lambda layer whose {what} is a Python `lambda`. featherflow "
            "does not store or execute code from saved configs, so a lambda cannot be restored. Define a named "
            "function instead, or pass it when loading: `custom_objects={'<lambda>': fn}`."
        )
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    from featherflow.keras.saving import object_registration

    found = object_registration.get_registered_object(name, custom_objects)
    if found is not None:
        return found
    target = sys.modules.get(module) if module else None  # never imports: only modules already loaded
    for part in name.split(".") if target is not None else ():
        target = getattr(target, part, None)
    if target is None or not callable(target):
        raise ValueError(f"Unknown {what} {name!r} (module {module!r}) in a Lambda layer config. Pass it in "
                         f"`custom_objects` or register it with `keras.saving.register_keras_serializable`.")
    return target


class Lambda(Layer):
    """Apply ``function(inputs, **arguments)`` as a layer.

    Args:
        function: a callable on tensors; may accept ``mask`` and ``training`` keyword arguments.
        output_shape: the output shape without the batch axis (tuple), or a function of the input
            shape; inferred by running the function when omitted.
        mask: an output mask, or a function ``(inputs, mask) -> mask``.
        arguments: extra keyword arguments for ``function``.

    >>> from featherflow import keras
    >>> keras.layers.Lambda(lambda x, k: x * k, arguments={"k": 3.0})([[1.0]]).numpy()
    array([[3.]], dtype=float32)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"`function` of a Lambda layer must be callable. Received: function={function!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        if output_shape is not None and not callable(output_shape):
            output_shape = tuple(output_shape)
        self._output_shape = output_shape
        params = inspect.signature(function).parameters if _has_signature(function) else {}
        self._fn_takes_mask = "mask" in params
        self._fn_takes_training = "training" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        shape = tuple(input_shape)
        batch = shape[0] if shape and not isinstance(shape[0], (tuple, list)) else None
        return (batch,) + self._output_shape

    def get_config(self):
        config = super().get_config()
        name, kind, module = _describe(self.function)
        config.update(function=name, function_type=kind, module=module)
        if callable(self._output_shape):
            out_name, out_kind, out_module = _describe(self._output_shape)
        else:
            out_name, out_kind, out_module = (list(self._output_shape) if self._output_shape is not None else None,
                                              "raw", None)
        config.update(output_shape=out_name, output_shape_type=out_kind, output_shape_module=out_module)
        if callable(self.mask):
            mask_name, mask_kind, mask_module = _describe(self.mask)
        else:
            mask_name, mask_kind, mask_module = self.mask, "raw", None
        config.update(mask=mask_name, mask_type=mask_kind, mask_module=mask_module, arguments=dict(self.arguments))
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        function = _resolve(config.pop("function"), config.pop("function_type", "function"),
                            config.pop("module", None), custom_objects, "function")
        output_shape = _resolve(config.pop("output_shape", None), config.pop("output_shape_type", "raw"),
                                config.pop("output_shape_module", None), custom_objects, "output_shape")
        mask = _resolve(config.pop("mask", None), config.pop("mask_type", "raw"), config.pop("mask_module", None),
                        custom_objects, "mask")
        return cls(function, output_shape=output_shape, mask=mask, **config)


def _has_signature(fn) -> bool:
    try:
        inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return True
