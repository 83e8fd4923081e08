"""Learning-rate schedules against the published formulas, computed independently."""

from __future__ import annotations

import math

import numpy as np
import pytest

import featherflow as ff
from featherflow.keras.optimizers import schedules

STEPS = [0, 1, 5, 10, 17, 25, 100]


def _check(schedule, formula):
    for step in STEPS:
        assert float(schedule(step)) == pytest.approx(formula(step), rel=1e-6, abs=1e-9), step
    assert schedule(3).dtype == np.float32
    clone = type(schedule).from_config(schedule.get_config())
    assert clone.get_config() == schedule.get_config()
    assert float(schedules.deserialize(schedules.serialize(schedule))(7)) == pytest.approx(float(schedule(7)))


def test_exponential_decay():
    _check(schedules.ExponentialDecay(0.1, 10, 0.96), lambda s: 0.1 * 0.96 ** (s / 10))
    _check(schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True), lambda s: 0.1 * 0.5 ** (s // 10))


def test_piecewise_constant():
    _check(schedules.PiecewiseConstantDecay([5, 17], [1.0, 0.5, 0.1]),
           lambda s: 1.0 if s <= 5 else 0.5 if s <= 17 else 0.1)
    with pytest.raises(ValueError, match="1 less than"):
        schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5])


def test_polynomial_decay():
    def plain(s, power=1.0):
        s = min(s, 20)
        return (0.1 - 0.001) * (1 - s / 20) ** power + 0.001

    _check(schedules.PolynomialDecay(0.1, 20, 0.001), plain)
    _check(schedules.PolynomialDecay(0.1, 20, 0.001, power=2.0), lambda s: plain(s, 2.0))

    def cyc(s):
        steps = 20 * (1 if s == 0 else math.ceil(s / 20))
        return (0.1 - 0.001) * (1 - s / steps) + 0.001

    _check(schedules.PolynomialDecay(0.1, 20, 0.001, cycle=True), cyc)


def test_inverse_time_decay():
    _check(schedules.InverseTimeDecay(0.1, 10, 0.5), lambda s: 0.1 / (1 + 0.5 * s / 10))
    _check(schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True), lambda s: 0.1 / (1 + 0.5 * (s // 10)))


def test_cosine_decay_and_warmup():
    def cos(s, start=0.1, steps=20, alpha=0.1):
        s = min(s, steps)
        return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / steps)) + alpha)

    _check(schedules.CosineDecay(0.1, 20, alpha=0.1), cos)

    def warm(s):
        s = min(s, 20 + 5)
        if s < 5:
            return 0.0 + (1.0 - 0.0) * s / 5
        return cos(s - 5, start=1.0)

    _check(schedules.CosineDecay(0.0, 20, alpha=0.1, warmup_target=1.0, warmup_steps=5), warm)


def test_cosine_decay_restarts():
    def sgdr(s, first=10, t_mul=2.0, m_mul=0.5, alpha=0.0):
        # walk the periods explicitly (independent of the closed form)
        start, length, peak = 0.0, float(first), 1.0
        while s >= start + length:
            start += length
            length *= t_mul
            peak *= m_mul
        frac = (s - start) / length
        return 0.2 * ((1 - alpha) * peak * 0.5 * (1 + math.cos(math.pi * frac)) + alpha)

    _check(schedules.CosineDecayRestarts(0.2, 10, t_mul=2.0, m_mul=0.5), sgdr)
    _check(schedules.CosineDecayRestarts(0.2, 10, t_mul=1.0, m_mul=1.0, alpha=0.1),
           lambda s: sgdr(s, t_mul=1.0, m_mul=1.0, alpha=0.1))


def test_schedule_accepts_a_tensor_step():
    s = schedules.ExponentialDecay(1.0, 1, 0.5)
    assert float(s(ff.constant(2, dtype="int64"))) == 0.25


def test_unknown_schedule_name():
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
