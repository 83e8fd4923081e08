import builtins
import os

import numpy as np
import pytest

import featherflow as ff
from featherflow.ops import _kernels

# Helper modules of the tests (once.py, gradcheck.py, ...) live here; subprocesses started by tests (scripts run
# with `python file.py`, spawned workers, Dask workers) must import them too, so they inherit this directory.
_TESTS = os.path.dirname(os.path.abspath(__file__))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [_TESTS, os.environ.get("PYTHONPATH")]))

# make_*.py scripts write committed reference files with TensorFlow, once, by hand: never collected (one glob
# here: a conftest.py in another test directory clashes with tests/keras/layers/conftest.py under --doctest-modules)
collect_ignore_glob = ["*/make_*.py"]

# The suite runs its products on one BLAS thread (the intra-op pin): results then never depend on the thread
# count that featherflow/backend/blas.py adapts to the machine's load, so bit-for-bit comparisons between two
# runs hold on a busy machine. tests/backend/test_blas.py lifts the pin to test the policy itself.
ff.config.threading.set_intra_op_parallelism_threads(1)


@pytest.fixture(autouse=True)
def _reset_state():
    """Each test starts from the same seed, float32 default and one-thread BLAS pin (a doctest or test that
    lifted it does not leak), and leaves the optional compiled ops kernels in their default mode (tests switch them on and off to compare both paths) and ``print`` as it found it."""
    ff.random.set_seed(1234)
    ff.set_floatx("float32")
    if ff.config.threading.get_intra_op_parallelism_threads() != 1:
        ff.config.threading.set_intra_op_parallelism_threads(1)  # a test or doctest that lifted the pin
    builtin_print = builtins.print
    yield
    ff.set_floatx("float32")
    _kernels.use_kernels(None)
    builtins.print = builtin_print  # Ray's driver swaps in its own print (tqdm_ray.safe_print) when workers log


@pytest.fixture
def rng():
    return np.random.default_rng(0)
