"""Population Based Training (``PopulationBasedTraining``): the tuner, its oracle and their parts.

- ``tuner.py``: ``PopulationBasedTraining`` (search, results, schedules and replay);
- ``oracle.py``: ``PBTOracle``, which member trains next, from which checkpoint, with which values;
- ``exploit.py`` and ``explore.py``: the two steps of PBT as pure functions;
- ``members.py``: the worker side, training one member for one segment (mutable hyperparameters);
- ``records.py``: ``Segment``, ``SegmentTask``, ``SegmentResult``, the records passed between them;
- ``checkpoints.py``, ``plot.py`` (``plot_population``), ``problems.py`` (benchmark problems).
"""

from featherflow.tuner.pbt.oracle import PBTOracle
from featherflow.tuner.pbt.plot import plot_population
from featherflow.tuner.pbt.records import Segment, SegmentResult, SegmentTask
from featherflow.tuner.pbt.tuner import PopulationBasedTraining, ReplayResult

__all__ = [
    "PBTOracle",
    "PopulationBasedTraining",
    "ReplayResult",
    "Segment",
    "SegmentResult",
    "SegmentTask",
    "plot_population",
]
