"""``InputSpec``: what a layer accepts, and the check that raises Keras's error text."""

from __future__ import annotations


class InputSpec:
    """Constraints on a layer input: rank (``ndim``/``min_ndim``/``max_ndim``), exact ``shape``
    (``None`` for any size) or sizes of given ``axes`` (``{-1: 128}``), and ``dtype``.

    >>> InputSpec(min_ndim=2, axes={-1: 4}).axes
    {-1: 4}
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,
                 allow_last_axis_squeeze=False, name=None):
        self.dtype = dtype
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})
        self.name = name
        self.allow_last_axis_squeeze = allow_last_axis_squeeze

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
                 ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim), ("axes", self.axes or None)) if v]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes}


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def check_input_compatibility(input_spec, inputs_shapes, layer_name: str) -> None:
    """Raise ``ValueError`` in Keras's words when ``inputs_shapes`` violate ``input_spec``.

    Args:
        input_spec: an ``InputSpec`` or a list of them (one per input).
        inputs_shapes: list of input shapes (tuples, ``None`` for unknown sizes).
        layer_name: used in the message.
    """
    if input_spec is None:
        return
    specs = input_spec if isinstance(input_spec, (list, tuple)) else [input_spec]
    if len(specs) != len(inputs_shapes):
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(inputs_shapes)} '
            f"input tensors. Inputs received: {[_shape_str(s) for s in inputs_shapes]}"
        )
    for index, (spec, shape) in enumerate(zip(specs, inputs_shapes)):
        if spec is None:
            continue
        rank = len(shape)
        prefix = f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
        if spec.ndim is not None and rank != spec.ndim:
            raise ValueError(f"{prefix}expected ndim={spec.ndim}, found ndim={rank}. Full shape received: "
                             f"{_shape_str(shape)}")
        if spec.max_ndim is not None and rank > spec.max_ndim:
            raise ValueError(f"{prefix}expected max_ndim={spec.max_ndim}, found ndim={rank}. Full shape received: "
                             f"{_shape_str(shape)}")
        if spec.min_ndim is not None and rank < spec.min_ndim:
            raise ValueError(f"{prefix}expected min_ndim={spec.min_ndim}, found ndim={rank}. Full shape received: "
                             f"{_shape_str(shape)}")
        for axis, value in spec.axes.items():
            if value is None:
                continue
            if not -rank <= axis < rank:
                raise ValueError(f"{prefix}expected an axis {axis} with value {value}, but the input has rank "
                                 f"{rank}. Full shape received: {_shape_str(shape)}")
            if shape[axis] not in (value, None):
                shown = (None,) + tuple(shape[1:]) if rank else shape
                raise ValueError(
                    f"{prefix}expected axis {axis} of input shape to have value {value}, but received input "
                    f"with shape {_shape_str(shown)}. Received: inputs.shape={_shape_str(shape)}"
                )
        if spec.shape is not None:
            for spec_dim, dim in zip(spec.shape, shape):
                if spec_dim is not None and dim is not None and spec_dim != dim:
                    raise ValueError(f"{prefix}expected shape={_shape_str(spec.shape)}, found shape="
                                     f"{_shape_str(shape)}")
