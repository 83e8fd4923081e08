"""The records between tuners, their workers and the oracles (TrialResult, PBT's Segment / SegmentTask)."""

import json
import pickle

import pytest

from featherflow.tuner.keras_tuner import KerasTrialResult
from featherflow.tuner.pbt import Segment, SegmentResult, SegmentTask
from featherflow.tuner.trial import Trial, TrialResult


def test_trial_result_of_accepts_results_and_their_mapping_form_only():
    result = KerasTrialResult(0.5, {"loss": [0.5]}, 3, weights=[1], execution_scores=[0.5])
    assert TrialResult.of(result) is result
    assert TrialResult.of({"score": 1.0, "best_step": 2}) == TrialResult(1.0, {}, 2)
    with pytest.raises(TypeError, match=r"unknown entries \['weights'\]"):
        TrialResult.of({"score": 1.0, "weights": []})
    with pytest.raises(TypeError, match="must return a TrialResult. Received: float"):
        TrialResult.of(1.0)


def test_segments_round_trip_through_the_json_trial_record():
    segment = Segment(member=2, generation=3, start=6, stop=8, parent=11, donor=0, donor_trial=9,
                      changes={"lr": {"from": 0.1, "to": 0.08, "how": "x0.8"}})
    trial = Trial(5, None, info=json.loads(json.dumps(segment.to_info())))
    assert Segment.of(trial) == segment
    first = Segment(member=0, generation=0, start=0, stop=2)
    assert first.to_info() == {"member": 0, "generation": 0, "start": 0, "stop": 2, "parent": None, "donor": None,
                               "donor_trial": None, "changes": {}}


def test_worker_records_pickle_for_the_executors():
    task = SegmentTask(start=0, stop=5, unit="steps", seed=3, parent_score=None)
    result = SegmentResult(0.25, {"loss": [0.25]}, checkpoint={"state": [1.0]})
    assert pickle.loads(pickle.dumps(task)) == task
    assert pickle.loads(pickle.dumps(result)) == result and result.best_step is None
