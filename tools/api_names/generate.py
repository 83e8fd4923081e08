"""Write the public-name lists that ``tools/api_coverage.py`` compares featherflow with.

Run once, in a side environment with TensorFlow and tf-keras installed (never by the tests)::

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu tf-keras
    /tmp/tfenv/bin/python tools/api_names/generate.py

The ``tf.keras.*`` lists are read from tf-keras (tf.keras 2.x), the others from TensorFlow.
Each file starts with a comment naming the versions that produced it.
"""

from __future__ import annotations

import importlib
import types
from pathlib import Path

TF_NAMESPACES = ["", "math", "nn", "random", "linalg", "bitwise", "sparse", "signal", "strings", "image", "data",
                 "data.experimental", "summary", "train", "debugging", "config", "autodiff", "dtypes", "io", "io.gfile",
                 "lookup", "lookup.experimental", "saved_model", "types", "types.experimental", "experimental",
                 "autograph", "quantization"]
KERAS_NAMESPACES = ["layers", "losses", "metrics", "optimizers", "optimizers.schedules", "callbacks", "activations",
                    "initializers", "regularizers", "constraints", "utils", "models", "datasets", "backend",
                    "preprocessing", "preprocessing.image", "preprocessing.sequence", "preprocessing.text",
                    "mixed_precision", "saving"]


def public_names(module) -> list[str]:
    return sorted(name for name in dir(module) if not name.startswith("_"))


def resolve(root, dotted: str):
    obj = root
    for part in filter(None, dotted.split(".")):
        obj = getattr(obj, part)
    return obj


def main() -> None:
    import tensorflow as tf
    import tf_keras

    out_dir = Path(__file__).resolve().parent
    for dotted in TF_NAMESPACES:
        module = resolve(tf, dotted)
        name = "tf" + (f".{dotted}" if dotted else "")
        write(out_dir / f"{name}.txt", f"TensorFlow {tf.__version__}", public_names(module))
    for dotted in KERAS_NAMESPACES:
        module = resolve(tf_keras, dotted)
        if not isinstance(module, types.ModuleType):
            module = importlib.import_module(f"tf_keras.{dotted}")
        write(out_dir / f"tf.keras.{dotted}.txt", f"tf-keras {tf_keras.__version__}", public_names(module))


def write(path: Path, source: str, names: list[str]) -> None:
    path.write_text(f"# public names of {path.stem} in {source}\n" + "\n".join(names) + "\n", encoding="utf-8")
    print(f"{path.name}: {len(names)} names")


if __name__ == "__main__":
    main()
