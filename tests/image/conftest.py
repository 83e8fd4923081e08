from pathlib import Path

import numpy as np
import pytest

collect_ignore = ["make_tf_reference.py"]  # needs TensorFlow; run by hand once
REFERENCE = Path(__file__).resolve().parent / "tf_reference.npz"


@pytest.fixture(scope="session")
def tf_ref():
    """Outputs of TensorFlow 2.21 / tf-keras 2.21 written once by make_tf_reference.py."""
    with np.load(REFERENCE) as data:
        return {key: data[key] for key in data.files}
