"""The ``featherflow`` command line, run as a user runs it: ``python -m featherflow ...`` in a child process.

Covers ``demo`` (tiny epoch count, into a temporary folder), ``info``, ``summary`` and ``predict`` on a model
saved here, ``--help`` for each command, exit statuses, and errors on missing or bad files: one line on
stderr, ``featherflow: error: ...``, exit status 2, never a traceback.
"""

import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import featherflow as tf
from featherflow.cli import main

COMMANDS = ("demo", "info", "summary", "predict")


def cli_environment(tmp_path):
    env = dict(os.environ)
    env.update({
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",  # shared 2-core machine
        "MPLBACKEND": "Agg",
        "KERAS_HOME": str(tmp_path / "keras_home"),  # never read or write the user's ~/.keras
        "FEATHERFLOW_DATASETS_ORIGIN": "http://127.0.0.1:9/",  # a closed port: tests never touch the network
    })
    return env


def run_cli(tmp_path, *args, timeout=240, env=None):
    return subprocess.run([sys.executable, "-m", "featherflow", *args], cwd=tmp_path,
                          env={**cli_environment(tmp_path), **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)


class Result:
    """What a command run left behind: exit status, stdout and stderr (like ``subprocess.CompletedProcess``)."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def run_here(tmp_path, monkeypatch, capsys):
    """Run ``featherflow.cli.main`` in this process (the code path of the child process, without its start-up
    cost), in ``tmp_path`` with the same environment as ``run_cli``."""
    for name, value in cli_environment(tmp_path).items():
        if name in ("KERAS_HOME", "FEATHERFLOW_DATASETS_ORIGIN", "MPLBACKEND"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    def run(*args):
        capsys.readouterr()
        status = main(list(args))
        captured = capsys.readouterr()
        return Result(status, captured.out, captured.err)

    return run


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("featherflow: error: "), lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture(scope="module")
def saved_classifier(tmp_path_factory):
    """A small trained MNIST-shaped classifier saved to ``model.keras``, and 6 test inputs in ``x.npy``."""
    folder = tmp_path_factory.mktemp("cli_model")
    tf.keras.backend.clear_session()
    tf.keras.utils.set_random_seed(3)
    (x_train, y_train), (x_test, _) = tf.keras.datasets.mnist.load_data(sample=True)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train[:256] / 255.0, y_train[:256], epochs=1, verbose=0)
    model.save(folder / "model.keras")
    x = (x_test[:6] / 255.0).astype("float32")
    np.save(folder / "x.npy", x)
    return folder, model, x


# -- demo ---------------------------------------------------------------------------------------------------
def test_demo_trains_reports_and_writes_its_files(tmp_path):
    pytest.importorskip("matplotlib")
    output = tmp_path / "out"
    result = run_cli(tmp_path, "demo", "--epochs", "1", "--output", str(output))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert 'Model: "sequential"' in text and "Total params: 101,770" in text  # the summary
    # One epoch of 3,600/32 steps: the last 10% of the 4,000 training digits are held out for validation
    # (tf.keras prints no "Epoch 1/1" header when epochs=1).
    assert "113/113 [" in text and "Epoch 2/" not in text and " - val_loss: " in text
    accuracy = float(text.split("Test accuracy: ")[1].split()[0])
    assert 0.5 < accuracy <= 1.0  # one epoch on 4,000 digits is far above chance (0.1)
    assert "Test digit 42 (label 6)" in text
    # The ten probabilities printed for digit 42 sum to one and the predicted class is their argmax.
    block = text.split("Predicted probabilities:\n")[1].split("Predicted class: ")
    probabilities = [float(line.split(":")[1].split()[0]) for line in block[0].strip().splitlines()]
    assert len(probabilities) == 10 and abs(sum(probabilities) - 1.0) < 0.01
    assert int(block[1].split()[0]) == int(np.argmax(probabilities))
    for name in ("history.png", "predictions.png", "model.keras", "digits.npy"):
        path = output / name
        assert path.is_file() and path.stat().st_size > 0, name
        assert str(path) in text  # says where the files are
    with open(output / "history.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    reloaded = tf.keras.models.load_model(output / "model.keras")
    assert [layer.__class__.__name__ for layer in reloaded.layers] == ["Flatten", "Dense", "Dropout", "Dense"]
    digits = np.load(output / "digits.npy")
    assert digits.shape == (10, 28, 28) and digits.dtype == np.float32 and 0 <= digits.min() < digits.max() <= 1
    # The commands the demo suggests run as printed, from the same folder, in this shell's environment.
    suggested = text.split("Try:\n")[1].splitlines()[:2]
    assert suggested[0].strip().endswith(f"summary {output / 'model.keras'}")
    assert suggested[1].strip().endswith(f"predict {output / 'model.keras'} {output / 'digits.npy'}")
    summary = subprocess.run(suggested[0].strip(), shell=True, cwd=tmp_path, env=cli_environment(tmp_path),
                             capture_output=True, text=True, timeout=120)
    assert summary.returncode == 0 and "Total params: 101,770" in summary.stdout, summary.stderr
    predicted = subprocess.run(suggested[1].strip(), shell=True, cwd=tmp_path, env=cli_environment(tmp_path),
                               capture_output=True, text=True, timeout=120)
    assert predicted.returncode == 0 and predicted.stderr == "", predicted.stderr
    classes = reloaded.predict(digits, verbose=0).argmax(axis=1).tolist()
    assert f"classes: {classes}" in predicted.stdout


def test_the_suggested_command_is_the_one_that_runs_here(tmp_path, monkeypatch):
    from featherflow.cli.demo import featherflow_command

    bin_folder = tmp_path / ".venv" / "bin"
    bin_folder.mkdir(parents=True)
    monkeypatch.setattr(sys, "executable", str(bin_folder / "python"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert featherflow_command() == f"{bin_folder / 'python'} -m featherflow"  # no console script installed
    script = bin_folder / "featherflow"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert featherflow_command() == os.path.join(".venv", "bin", "featherflow")  # not activated: its path
    monkeypatch.setenv("PATH", f"{bin_folder}:/usr/bin:/bin")
    assert featherflow_command() == "featherflow"  # activated: the plain name
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert featherflow_command() == str(script)  # from outside its folder: the absolute path


def test_demo_rejects_a_non_positive_epoch_count(tmp_path, run_here):
    assert_one_line_error(run_here("demo", "--epochs", "0", "--output", str(tmp_path / "o")), "epochs=0")
    assert not (tmp_path / "o").exists()


def test_demo_full_without_network_is_a_one_line_error_naming_the_file_and_where_to_put_it(tmp_path, run_here):
    result = run_here("demo", "--full", "--output", str(tmp_path / "o"))
    assert_one_line_error(result, "mnist.npz", "sample=True", "without --full", "`make demo`, not `make demo "
                          "ARGS=--full`")
    assert not os.path.exists(tmp_path / "keras_home" / "datasets" / "mnist.npz")  # nothing partial left


# -- info ---------------------------------------------------------------------------------------------------
def test_info_prints_version_backend_blas_threads_and_extras(tmp_path):
    result = run_cli(tmp_path, "info")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"featherflow {tf.__version__}"
    assert any(line.startswith("numpy ") and "BLAS: " in line for line in lines)
    assert any(line.startswith("threads: ") and "OPENBLAS_NUM_THREADS=1" in line for line in lines)
    assert any(line.startswith("backend: numpy, floatx: float32") for line in lines)
    extras_line = next(line for line in lines if line.startswith("extras: "))
    import importlib.util

    expected_plot = "yes" if importlib.util.find_spec("matplotlib") else "no"
    assert f"plot {expected_plot}" in extras_line
    for extra in ("sklearn", "h5", "rl", "ray", "dask", "gpu", "fast"):
        assert f"{extra} " in extras_line
    kernels = next(line for line in lines if line.startswith("compiled kernels: "))
    numba_installed = importlib.util.find_spec("numba") is not None
    switched = os.environ.get("FEATHERFLOW_NUMBA") == "0"  # the suite run with the kernels switched off
    assert kernels.startswith("compiled kernels: active (numba ") == (numba_installed and not switched), kernels
    assert ("not installed" in kernels and 'featherflow[fast]' in kernels) == (not numba_installed), kernels
    switched_off = run_cli(tmp_path, "info", env={"FEATHERFLOW_NUMBA": "0"})
    assert "compiled kernels: off (FEATHERFLOW_NUMBA=0); NumPy paths" in switched_off.stdout.splitlines()


# -- summary ------------------------------------------------------------------------------------------------
def test_summary_prints_the_saved_models_summary(saved_classifier, run_here):
    folder, model, _ = saved_classifier
    result = run_here("summary", str(folder / "model.keras"))
    assert result.returncode == 0, result.stderr
    expected = []
    model.summary(print_fn=expected.append)
    assert result.stdout.rstrip("\n").splitlines() == "\n".join(expected).splitlines()
    assert "Total params: 12,730" in result.stdout  # 784*16+16 + 16*10+10


# -- predict ------------------------------------------------------------------------------------------------
def test_predict_prints_probabilities_and_classes(saved_classifier, run_here):
    folder, model, x = saved_classifier
    result = run_here("predict", str(folder / "model.keras"), str(folder / "x.npy"))
    assert result.returncode == 0, result.stderr
    expected = model.predict(x, verbose=0)
    classes_line = next(line for line in result.stdout.splitlines() if line.startswith("classes: "))
    assert classes_line == f"classes: {expected.argmax(axis=1).tolist()}"
    printed = np.array([float(v) for v in result.stdout.split("classes:")[0].replace("[", " ").replace("]", " ")
                        .split()])
    np.testing.assert_allclose(printed.reshape(expected.shape), expected, atol=1e-4)


def test_predict_hints_at_the_batch_axis_for_one_sample(tmp_path, saved_classifier, run_here):
    folder, _, x = saved_classifier
    np.save(tmp_path / "one.npy", x[0])
    assert_one_line_error(run_here("predict", str(folder / "model.keras"), "one.npy"),
                          "one.npy holds one sample of shape (28, 28) without the batch axis",
                          "expects a batch of shape (None, 28, 28)", "np.save(path, x[None])")


@pytest.mark.parametrize("raw", ["uint8", "float-0-255"])
def test_predict_warns_about_raw_pixels(tmp_path, saved_classifier, run_here, raw):
    folder, model, x = saved_classifier
    pixels = np.round(x * 255).astype("uint8")
    np.save(tmp_path / "raw.npy", pixels if raw == "uint8" else pixels.astype("float32"))
    result = run_here("predict", str(folder / "model.keras"), "raw.npy")
    assert result.returncode == 0
    assert result.stderr.startswith("featherflow: warning: raw.npy holds raw pixel values")
    assert "x / 255.0" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "classes: " in result.stdout  # still predicts: the warning is advice
    scaled = run_here("predict", str(folder / "model.keras"), str(folder / "x.npy"))
    assert scaled.returncode == 0 and scaled.stderr == ""


def test_predict_help_says_how_to_make_its_input(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "np.save('digits.npy', x_test[:10] / 255.0)" in help_text and "demo-output/digits.npy" in help_text


def test_predict_output_file_holds_exactly_the_models_predictions(tmp_path, saved_classifier):
    folder, model, x = saved_classifier
    target = tmp_path / "predictions.npy"
    result = run_cli(tmp_path, "predict", str(folder / "model.keras"), str(folder / "x.npy"), "--batch-size", "4",
                     "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert f"Saved predictions of shape (6, 10) to {target}" in result.stdout
    np.testing.assert_array_equal(np.load(target), model.predict(x, verbose=0))


# -- help and exit statuses ---------------------------------------------------------------------------------
@pytest.mark.parametrize("command", COMMANDS)
def test_help_for_each_command(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: featherflow {command}")


def test_top_level_help_lists_every_command_and_version(tmp_path):
    result = run_cli(tmp_path, "--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout
    version = run_cli(tmp_path, "--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"featherflow {tf.__version__}")


def test_no_command_prints_help_and_an_unknown_one_fails(capsys):
    assert main([]) == 0
    assert "usage: featherflow" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main(["train"])
    assert stop.value.code == 2
    assert "invalid choice: 'train'" in capsys.readouterr().err


def test_console_script_is_installed_next_to_the_interpreter(tmp_path):
    script = shutil.which("featherflow", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("featherflow is not installed as a console script in this environment")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, f"featherflow {tf.__version__}")


# -- errors: one clear line, exit status 2 --------------------------------------------------------------------
def test_missing_model_file(run_here):
    assert_one_line_error(run_here("summary", "missing.keras"), "Model file not found: missing.keras")


def test_model_path_that_is_a_folder(tmp_path, run_here):
    (tmp_path / "folder.keras").mkdir()
    assert_one_line_error(run_here("summary", "folder.keras"), "is not a file")


@pytest.mark.parametrize("content", [b"", b"not a zip archive at all", b"PK\x03\x04truncated"])
def test_corrupt_model_file(tmp_path, content, run_here):
    (tmp_path / "bad.keras").write_bytes(content)
    assert_one_line_error(run_here("summary", "bad.keras"), "bad.keras")


def test_archive_that_is_not_a_model(tmp_path, run_here):
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert_one_line_error(run_here("summary", "other.keras"))


def test_predict_input_errors(tmp_path, saved_classifier, run_here):
    folder, _, _ = saved_classifier
    model_path = str(folder / "model.keras")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "archive.npz", x=np.zeros((1, 28, 28)))
    np.save(tmp_path / "wrong_shape.npy", np.zeros((2, 5), dtype="float32"))
    cases = [
        ("missing.npy", "Input file not found: "),
        ("objects.npy", "is not a plain NumPy .npy array"),
        ("archive.npz", "not an .npz archive"),
        ("wrong_shape.npy", "incompatible"),
    ]
    for name, fragment in cases:
        assert_one_line_error(run_here("predict", model_path, str(tmp_path / name)), fragment)
    # A real child process too: the exit status and the stderr a shell sees.
    assert_one_line_error(run_cli(tmp_path, "predict", model_path, "objects.npy"), "objects.npy")


def test_loading_is_safe_a_lambda_model_is_refused_in_one_line(tmp_path, run_here):
    model = tf.keras.Sequential([tf.keras.Input(shape=(2,)), tf.keras.layers.Lambda(lambda t: t * 2.0)])
    model.save(tmp_path / "lambda.keras")
    assert_one_line_error(run_here("summary", "lambda.keras"), "safe_mode")
