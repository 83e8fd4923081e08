import resource
import sys

import numpy as np
import pytest

from featherflow.backend import allocator, blas

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or allocator._libc() is None,
                                reason="glibc's mallopt only")


def _faults_of_a_step_pattern(rounds=20, megabytes=8, arrays=4):
    """Page faults of ``rounds`` "steps" that each allocate (and write) a few multi-MB arrays and free them."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        blocks = [np.ones(megabytes * 1024 * 1024 // 8) for _ in range(arrays)]
        del blocks
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_fit_context_reuses_freed_blocks_instead_of_faulting_fresh_pages():
    pages_per_step = 4 * 8 * 1024 * 1024 // 4096
    assert allocator._state["depth"] == 0, "an earlier test left a fit/evaluate/predict compute context open"
    # glibc raises its mmap threshold on the fly as mapped blocks are freed (earlier tests free many); one
    # retain/release cycle sets the starting thresholds explicitly, so "outside" measures them whatever ran before
    allocator.retain()
    allocator.release()
    outside = _faults_of_a_step_pattern()
    with blas.managed():
        inside = _faults_of_a_step_pattern()
    # without retention glibc trims the freed arrays every step and each step faults them in again
    assert outside > 2 * pages_per_step, outside
    assert inside < pages_per_step // 2, inside
    assert allocator._state["depth"] == 0
    assert _faults_of_a_step_pattern() > 2 * pages_per_step  # glibc's own thresholds are back


def test_nested_retain_counts_and_release_restores():
    assert allocator.retain() and allocator.retain()
    assert allocator._state["depth"] == 2
    allocator.release()
    assert allocator._state["depth"] == 1
    allocator.release()
    allocator.release()  # one too many is harmless
    assert allocator._state["depth"] == 0
