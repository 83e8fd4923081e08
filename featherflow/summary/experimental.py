"""``tf.summary.experimental``: the default step, summary name scopes and raw ``Summary`` writes (re-exports).

>>> from featherflow.summary import experimental
>>> experimental.set_step(5); experimental.get_step()
5
>>> experimental.set_step(None)
"""

from featherflow.summary._ops import write_raw_pb
from featherflow.summary._writer import get_step, set_step, summary_scope

__all__ = ["get_step", "set_step", "summary_scope", "write_raw_pb"]
