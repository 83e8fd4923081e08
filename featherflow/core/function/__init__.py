"""``tf.function``: trace a Python function once per input signature, then replay a compiled NumPy program.

The first call for a signature runs the function for real on traced arrays (``featherflow.compiler``): the
results and side effects are exactly the eager ones, and every NumPy call the ops make - forward, the
``GradientTape``'s backward pass, the optimizer update - is recorded. Later calls with the same signature
run the compiled program: no Tensor objects, no tape, no Python code of the function. Python side effects
(``print``, appending to a list) happen at tracing only, as in TensorFlow; ``tf.print`` prints at every call.

>>> import featherflow as tf
>>> @tf.function
... def square_sum(x):
...     return tf.reduce_sum(x * x)
>>> float(square_sum(tf.constant([1.0, 2.0])))
5.0
>>> float(square_sum(tf.constant([3.0, 4.0])))  # same signature: the compiled program runs
25.0
>>> square_sum.experimental_get_tracing_count()
1
"""

from featherflow.core.function._function import (
    ConcreteFunction,
    Function,
    executing_eagerly,
    function,
    functions_run_eagerly,
    run_functions_eagerly,
    trace_turn,
)

__all__ = [
    "ConcreteFunction",
    "Function",
    "executing_eagerly",
    "function",
    "functions_run_eagerly",
    "run_functions_eagerly",
    "trace_turn",
]
