"""Every script in examples/ runs offline, as a user runs it (``python examples/NAME.py``), in its fast mode.

Fast mode (``FEATHERFLOW_EXAMPLE_FAST=1``) trains for an epoch or two on a slice of the bundled MNIST sample, so
the check is that the script runs end to end without error and prints what it promises; the values the
examples print about themselves (identical reloaded predictions, a resumed run equal to an uninterrupted one)
are asserted here. Every file in examples/ must have an entry below.
"""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

# file -> (optional modules it needs, lines or fragments its output must contain)
EXPECTED = {
    "seed_example.py": ((), ['Model: "sequential"', "Total params: 101,770", "(784, 128) (128,)", "(label: 6 )"]),
    "mnist_cnn.py": ((), ["conv2d (Conv2D)", "Total params: 34,826", "test accuracy: "]),
    "mnist_lstm.py": ((), ["lstm (LSTM)", "(None, 64)", "Total params: 24,458", "test accuracy: "]),
    "custom_training.py": ((), ["epoch 1/1: loss ", "evaluate: ["]),
    "functional_two_inputs.py": ((), ["left (InputLayer)", "encoder (Sequential)", "['left[0][0]',",
                                      "test accuracy (same digit or not): ", "P(same) = "]),
    "save_and_resume.py": ((), ["the reloaded model predicts identically",
                                "one more epoch on the original and on the reloaded model gives the same weights: True",
                                "first run stopped: simulated crash in epoch 3",
                                "Epoch 3/5", "epochs run after the restart: 3",
                                "resumed run == uninterrupted run, weight for weight: True"]),
    "tuner_search.py": ((), ["Trial 0000 [1/2] completed", "Trial 0001 [2/2] completed", "best hyperparameters: {",
                             "best model's test accuracy: "]),
    "sklearn_grid_search.py": (("sklearn",), ["best parameters: {", "test accuracy of the refitted best model: "]),
    "pbt.py": ((), ["Population Based Training: 4 members", "schedule of the best member:", "epochs 0-1: ",
                    "epochs 1-2: ", "best member's test accuracy: ", "replayed from scratch: val_accuracy "]),
    "cartpole_ga.py": (("gymnasium",), ["Generation 1/2", "over 5 fresh episodes", "saved "]),
    "cartpole_es.py": (("gymnasium",), ["Generation 1/2", "over 5 fresh episodes"]),
    "transformer_text_classifier.py": ((), ["128 training verses", "text_vectorization (TextVec",
                                            "transformer_block (Transf", "validation accuracy: ",
                                            "with probability"]),
    "char_gpt.py": ((), ["6000 characters", "multi_head_attention (MultiH", "final training loss: ",
                         "sample: 'And God said"]),
}


def example_files():
    return sorted(name for name in os.listdir(EXAMPLES) if name.endswith(".py"))


def test_every_example_has_a_test_entry():
    missing = [name for name in example_files() if name not in EXPECTED]
    assert not missing, f"add these examples to EXPECTED in {__file__}: {missing}"


def run_example(name, tmp_path):
    env = dict(os.environ)
    env.update({
        "FEATHERFLOW_EXAMPLE_FAST": "1",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",  # shared 2-core machine
        "MPLBACKEND": "Agg",
        "KERAS_HOME": str(tmp_path / "keras_home"),
        "FEATHERFLOW_DATASETS_ORIGIN": "http://127.0.0.1:9/",  # a closed port: examples must not need the network
    })
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, name)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_offline_in_fast_mode(name, tmp_path):
    if not os.path.exists(os.path.join(EXAMPLES, name)):
        pytest.skip(f"examples/{name} is not written yet")
    needs, fragments = EXPECTED[name]
    for module in needs:
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"examples/{name} needs {module}")
    result = run_example(name, tmp_path)
    assert result.returncode == 0, f"examples/{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stdout, f"examples/{name} did not print {fragment!r}:\n{result.stdout[-3000:]}"
    plots = {"transformer_text_classifier.py": "transformer_text_classifier_loss.png", "char_gpt.py": "char_gpt_loss.png"}
    if name in plots and importlib.util.find_spec("matplotlib") is not None:  # the promised loss plot
        assert (tmp_path / plots[name]).stat().st_size > 1000
    if name == "pbt.py":  # replaying the best member's schedule from scratch reproduces its score exactly
        replayed = re.search(r"replayed from scratch: val_accuracy (\S+) \(the member had (\S+)\)", result.stdout)
        assert replayed and replayed.group(1) == replayed.group(2), result.stdout[-2000:]
