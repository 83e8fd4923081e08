"""``tf.config``'s thread settings: how many threads featherflow's large array operations use.

``threading.set_intra_op_parallelism_threads(n)`` sets the thread count that large matrix products (and
featherflow's parallel copies) use during ``fit``/``evaluate``/``predict``; ``0`` restores the default
policy (one thread on machines with at most 2 cores, else OpenBLAS's count; products under 16M
multiply-adds always run on one thread). See ``featherflow/backend/blas.py`` for the measurements.

>>> import featherflow as tf
>>> tf.config.threading.set_intra_op_parallelism_threads(2)
>>> tf.config.threading.get_intra_op_parallelism_threads()
2
>>> tf.config.threading.set_intra_op_parallelism_threads(0)
"""

from __future__ import annotations

from featherflow.backend import blas as _blas


class threading:  # noqa: N801 - TensorFlow's name: tf.config.threading
    """``tf.config.threading``."""

    @staticmethod
    def set_intra_op_parallelism_threads(num_threads: int) -> None:
        """Threads for large products during fit/evaluate/predict (0: featherflow's default policy)."""
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
            raise ValueError(f"set_intra_op_parallelism_threads expects a non-negative int. Received: "
                             f"num_threads={num_threads!r}")
        _blas.set_user_threads(num_threads or None)

    @staticmethod
    def get_intra_op_parallelism_threads() -> int:
        """The count set with ``set_intra_op_parallelism_threads`` (0 when the default policy applies)."""
        return _blas._state["user"] or 0

    @staticmethod
    def set_inter_op_parallelism_threads(num_threads: int) -> None:
        """Accepted for compatibility: featherflow runs one op at a time."""
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
            raise ValueError(f"set_inter_op_parallelism_threads expects a non-negative int. Received: "
                             f"num_threads={num_threads!r}")

    @staticmethod
    def get_inter_op_parallelism_threads() -> int:
        """Always 0 (featherflow runs one op at a time)."""
        return 0
