"""The records between an evolution run and its workers (featherflow/evolution/requests.py)."""

import pickle

import numpy as np
import pytest

from featherflow.evolution.requests import EvaluationRequest, EvaluationResult


def test_chunks_slice_every_per_individual_field_and_keep_the_shared_ones():
    theta = np.arange(3.0)
    request = EvaluationRequest("perturbations", positions=[0, 1, 2, 3], seed_keys=[0, 0, 1, 1], task_seed=5,
                                episodes=2, theta=theta, sigma=0.1, offsets=[7, 7, 9, 9], signs=[1, -1, 1, -1],
                                observation_filter="filter")
    first, second = request.chunk(0, 3), request.chunk(3, 4)
    assert (first.positions, first.seed_keys, first.offsets, first.signs) == ([0, 1, 2], [0, 0, 1], [7, 7, 9],
                                                                             [1, -1, 1])
    assert (second.positions, second.offsets, second.signs) == ([3], [9], [-1])
    assert second.theta is theta and second.sigma == 0.1 and second.task_seed == 5 and second.episodes == 2
    assert second.observation_filter == "filter" and second.genomes is None and len(first) == 3
    params = EvaluationRequest("params", positions=[0, 1], seed_keys=[0, 1], task_seed=0, episodes=1,
                               params=np.eye(2))
    np.testing.assert_array_equal(params.chunk(1, 2).params, [[0.0, 1.0]])
    again = pickle.loads(pickle.dumps(request))  # executors pickle requests
    assert again.offsets == request.offsets and np.array_equal(again.theta, theta)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind 'weights'"):
        EvaluationRequest("weights", positions=[0], seed_keys=[0], task_seed=0, episodes=1)


def test_results_of_chunks_join_in_order():
    parts = [EvaluationResult(np.array([1.0, 2.0]), np.array([3, 4]), (np.array([1, 1]), np.ones((2, 2)),
                                                                          np.ones((2, 2))), pid=11),
             EvaluationResult(np.array([5.0]), np.array([6]), (np.array([2]), np.zeros((1, 2)), np.zeros((1, 2))),
                              pid=12)]
    joined = EvaluationResult.concatenate(parts)
    assert joined.scores.tolist() == [1.0, 2.0, 5.0] and joined.scores.dtype == np.float64
    assert joined.steps.tolist() == [3, 4, 6] and joined.pid is None
    assert joined.observation_stats[0].tolist() == [1, 1, 2] and joined.observation_stats[1].shape == (3, 2)
    plain = EvaluationResult.concatenate([EvaluationResult(np.array([1.0]), np.array([1]))] * 2)
    assert plain.observation_stats is None
