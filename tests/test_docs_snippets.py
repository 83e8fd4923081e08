"""Every ```python block in README.md and docs/**/*.md runs without error.

The blocks of one page run in order in one fresh namespace (a page reads like a notebook: a later block may
use a model an earlier one built), in a child process whose working directory is a temporary folder, with the
BLAS limited to one thread and matplotlib on the Agg backend. Shell commands are fenced as ```bash / ```sh and
are not run; output is fenced as ```text. Every fence must name its language, so no Python block is skipped
by accident.

The one rewrite: tests never touch the network, so ``mnist.load_data()`` (the lecture's call, which downloads
the full MNIST set) runs as ``mnist.load_data(sample=True)``, the 5,000-digit sample bundled with featherflow.
"""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_LANGUAGES = {"python"}
OTHER_LANGUAGES = {"bash", "sh", "console", "text", "diff", "toml", "json", "ini", "make"}
FENCE = re.compile(r"^(\s*)```(.*)$")


def markdown_files():
    files = [os.path.join(ROOT, "README.md")] if os.path.exists(os.path.join(ROOT, "README.md")) else []
    docs = os.path.join(ROOT, "docs")
    for folder, _, names in sorted(os.walk(docs)):
        files += [os.path.join(folder, name) for name in sorted(names) if name.endswith(".md")]
    return files


def fenced_blocks(path):
    """``[(language, first_line_number, code)]`` for every fenced block of a Markdown file."""
    blocks, language, start, lines, indent = [], None, 0, [], ""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            match = FENCE.match(line.rstrip("\n"))
            if language is None:
                if match:
                    indent, language, start, lines = match.group(1), match.group(2).strip(), number + 1, []
            elif match and match.group(2).strip() == "":
                blocks.append((language, start, "".join(lines)))
                language = None
            else:
                lines.append(line[len(indent):] if line.startswith(indent) else line)
    if language is not None:
        raise AssertionError(f"{path}: the block opened before line {start} is never closed")
    return blocks


def offline(code):
    """The lecture's ``mnist.load_data()`` (a download) -> the bundled sample (tests stay offline)."""
    return code.replace("mnist.load_data()", "mnist.load_data(sample=True)")


RUNNER = r"""
import sys, traceback
blocks = {blocks!r}
namespace = {{"__name__": "__main__"}}
for line, code in blocks:
    try:
        exec(compile(code, "{path}:" + str(line), "exec"), namespace)
    except BaseException:
        print("\n*** the python block starting at {path}:" + str(line) + " failed:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    print("<<featherflow-doc-block-ok>>", flush=True)
"""


def relative(path):
    return os.path.relpath(path, ROOT)


FILES = markdown_files()


def test_readme_and_docs_exist_and_have_python_blocks():
    names = {relative(path) for path in FILES}
    assert "README.md" in names
    assert any(name.startswith("docs" + os.sep) for name in names)
    assert any(language in RUN_LANGUAGES for language, _, _ in fenced_blocks(os.path.join(ROOT, "README.md")))


@pytest.mark.parametrize("path", FILES, ids=[relative(path) for path in FILES])
def test_every_fence_names_a_known_language(path):
    for language, line, _ in fenced_blocks(path):
        assert language in RUN_LANGUAGES | OTHER_LANGUAGES, (
            f"{relative(path)}:{line - 1}: fence language {language!r}; use ```python for code that runs, "
            f"or one of {sorted(OTHER_LANGUAGES)}")


@pytest.mark.parametrize("path", FILES, ids=[relative(path) for path in FILES])
def test_python_blocks_run(path, tmp_path):
    blocks = [(line, offline(code)) for language, line, code in fenced_blocks(path) if language in RUN_LANGUAGES]
    if not blocks:
        pytest.skip(f"{relative(path)} has no python blocks")
    script = tmp_path / "run_blocks.py"
    script.write_text(RUNNER.format(blocks=blocks, path=relative(path)), encoding="utf-8")
    env = dict(os.environ)
    env.update({
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",  # shared 2-core machine
        "MPLBACKEND": "Agg",
        "KERAS_HOME": str(tmp_path / "keras_home"),
        "FEATHERFLOW_DATASETS_ORIGIN": "http://127.0.0.1:9/",  # a closed port: snippets must not need the network
        "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")])),
    })
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, f"{result.stdout[-2000:]}\n{result.stderr[-6000:]}"
    assert result.stdout.count("<<featherflow-doc-block-ok>>") == len(blocks)
