import numpy as np
import pytest

import featherflow as ff


@pytest.fixture(autouse=True)
def _reset_state():
    """Each test starts from the same seed and float32 default."""
    ff.random.set_seed(1234)
    ff.set_floatx("float32")
    yield
    ff.set_floatx("float32")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
