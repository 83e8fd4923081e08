"""Task functions for the executor tests (module level so worker processes can import them)."""

import os
import time

from once import first_claim


def add(a, b):
    return a + b


def blas_threads():
    return os.environ.get("OMP_NUM_THREADS"), os.environ.get("OPENBLAS_NUM_THREADS"), os.environ.get("MKL_NUM_THREADS")


def total(values, offset=0):
    return sum(values) + offset


def fail(message):
    raise KeyError(message)


def die_once(marker):
    """Kill the worker the first time (os._exit: no cleanup, like a crash); succeed when run again."""
    if first_claim(marker):
        os._exit(3)
    return os.getpid()


def always_die():
    os._exit(4)


def wait_to_be_killed(started, timeout=60.0):
    """First run: note the pid and sleep until the test SIGKILLs this worker. Rerun: return at once."""
    if os.path.exists(started):
        return "rerun", os.getpid()
    with open(started + ".tmp", "w") as handle:
        handle.write(str(os.getpid()))
    os.replace(started + ".tmp", started)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return "not killed", os.getpid()
