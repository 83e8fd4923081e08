"""`import featherflow` stays light: NumPy and the standard library only."""

import json
import subprocess
import sys

OPTIONAL = ["matplotlib", "sklearn", "h5py", "gymnasium", "ray", "dask", "cupy", "scipy", "pandas", "torch",
            "tensorflow", "jax"]


def _modules_after(statement: str) -> set:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_import_featherflow_loads_no_optional_dependency():
    modules = _modules_after("import featherflow")
    loaded = sorted(m for m in modules if m.split(".")[0] in OPTIONAL)
    assert loaded == [], f"import featherflow pulled in optional dependencies: {loaded}"
    assert "featherflow.keras" not in modules  # the keras half is loaded on first use
    assert "numpy.random" not in modules  # seeded generators are created lazily


def test_import_featherflow_imports_only_numpy_beyond_the_standard_library():
    baseline = _modules_after("import numpy")
    extra = _modules_after("import featherflow") - baseline
    third_party = sorted(m for m in extra if not m.startswith("featherflow") and m.split(".")[0] not in
                         sys.stdlib_module_names and not m.startswith("_"))
    assert third_party == [], third_party


def test_keras_is_reachable_lazily():
    out = subprocess.run([sys.executable, "-c", "import featherflow as tf; print(tf.keras.__name__)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "featherflow.keras"


def test_tuner_and_evolution_are_reachable_lazily():
    code = ("import sys, featherflow as tf; loaded = 'featherflow.tuner' in sys.modules; "
            "print(loaded, tf.tuner.RandomSearch.__name__, tf.evolution.GeneticAlgorithm.__name__, "
            "tf.tuner is sys.modules['featherflow.tuner'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "RandomSearch", "GeneticAlgorithm", "True"]
