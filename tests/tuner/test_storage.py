import json
import os

import numpy as np
import pytest

from featherflow.tuner import HyperParameters, Project, Trial
from featherflow.tuner.storage import write_atomic


def test_write_atomic_all_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "record.json"
    write_atomic(str(path), b'{"v": 1}')
    assert json.loads(path.read_text()) == {"v": 1}

    def broken_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        write_atomic(str(path), b'{"v": 2}')
    assert json.loads(path.read_text()) == {"v": 1}  # the old record survives
    assert sorted(os.listdir(tmp_path)) == ["record.json"]  # no temporary file left behind


def test_trial_records_and_weights_round_trip(tmp_path):
    project = Project(str(tmp_path), "p")
    hp = HyperParameters()
    hp.Int("units", 8, 64, step=8)
    hp.values["units"] = 24
    trial = Trial(7, hp, status="COMPLETED", score=np.float32(0.5), best_step=3,
                  metrics={"val_loss": [np.float64(1.0), 0.5]}, info={"bracket": 1}, seed=42, attempts=1)
    project.save_trial(trial)
    os.makedirs(tmp_path / "p" / "trial_9999")  # an empty leftover folder is ignored
    loaded = project.load_trials()
    assert list(loaded) == [7]
    again = loaded[7]
    assert again.to_dict() == trial.to_dict() and again.values == {"units": 24} and again.score == 0.5
    weights = [np.arange(6, dtype="float32").reshape(2, 3), np.ones(3, dtype="float64")]
    project.save_weights(trial.trial_id, weights)
    for saved, original in zip(project.load_weights(trial.trial_id), weights):
        np.testing.assert_array_equal(saved, original)
        assert saved.dtype == original.dtype
    assert project.load_weights("0001") is None
    assert Project(str(tmp_path), "p", overwrite=True).load_trials() == {}
