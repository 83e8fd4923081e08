"""``tf.types``: type annotations for code that accepts tensors (``tf.types.experimental.TensorLike``, ...).

``TensorLike`` is a ``typing.Union`` of what featherflow converts to a tensor; the function types are
abstract classes to annotate with (featherflow's ``tf.function`` objects are callables).

>>> import featherflow as tf
>>> def double(x: tf.types.experimental.TensorLike) -> tf.Tensor:
...     return tf.convert_to_tensor(x) * 2
>>> double([1, 2]).numpy().tolist()
[2, 4]
"""

from __future__ import annotations

import abc
import types as _types
import typing

import numpy as np

from featherflow.core.tensor import Tensor
from featherflow.core.variable import Variable

TensorLike = typing.Union[  # noqa: UP007 - a runtime alias, as TensorFlow's
    Tensor, Variable, np.ndarray, np.generic, int, float, bool, complex, str, bytes, tuple, list]


class Callable(abc.ABC):
    """Something called with tensors that returns tensors (TensorFlow's base of the function types)."""

    @abc.abstractmethod
    def __call__(self, *args, **kwargs):
        """Call it."""


class ConcreteFunction(Callable):
    """A function traced for one input signature."""


class GenericFunction(Callable):
    """A function that can be traced for several signatures (``tf.function``'s result)."""


PolymorphicFunction = GenericFunction


class AtomicFunction(Callable):
    """The smallest unit of a traced function."""


class FunctionType(abc.ABC):
    """The signature of a function (its parameters and their types)."""

    @property
    @abc.abstractmethod
    def parameters(self):
        """The parameters, by name."""


class TraceType(abc.ABC):
    """The type of a value as tracing sees it."""

    @abc.abstractmethod
    def is_subtype_of(self, other) -> bool:
        """Whether this type is a subtype of ``other``."""


class SupportsTracingProtocol(typing.Protocol):
    """Objects that give their own ``TraceType``."""

    def __tf_tracing_type__(self, context) -> TraceType: ...


experimental = _types.SimpleNamespace(
    AtomicFunction=AtomicFunction, Callable=Callable, ConcreteFunction=ConcreteFunction, FunctionType=FunctionType,
    GenericFunction=GenericFunction, PolymorphicFunction=PolymorphicFunction,
    SupportsTracingProtocol=SupportsTracingProtocol, TensorLike=TensorLike, TraceType=TraceType)
