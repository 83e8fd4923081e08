"""Hostile files: each crafted archive is refused with a clear featherflow error and runs nothing.

Payloads that would act create a marker file; every test checks the marker was not created, and
the "control" tests show the same payloads do create it when handed to a naive loader (importlib /
pickle), so the absence of the marker means something.
"""

import base64
import importlib
import io
import json
import marshal
import os
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest
from saving_helpers import (
    archive_bytes,
    dense_config,
    dense_weights,
    npy_bytes_with_header,
    symlink_info,
    zip_bytes,
)

from featherflow.keras import saving
from featherflow.keras.saving.errors import InvalidArchiveError, SavingError, UnsafeModelError
from featherflow.keras.saving.weights_formats import encode_npz

h5py = pytest.importorskip("h5py")


def _marker_code(marker):
    """A lambda whose call creates ``marker`` (marshalled like Keras does for Lambda layers)."""
    source = f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]"
    return eval(compile(source, "<payload>", "eval"))  # the test's own code, never loaded from a file


def _lambda_entry(marker):
    return saving.serialize_keras_object(_marker_code(marker))


def _h5_bytes(fill):
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        fill(handle)
    return buffer.getvalue()


def _central_directory(data) -> int:
    """Offset of the outer archive's central directory (inner .npz files hold signatures too)."""
    end = data.rfind(b"PK\x05\x06")
    return int.from_bytes(data[end + 16:end + 20], "little")


def _patch_central_offsets(data: bytes, new_offset: int) -> bytes:
    """Point every central-directory entry after the first at ``new_offset`` (overlapping entries)."""
    out = bytearray(data)
    position = _central_directory(data)
    first = True
    while position != -1:
        if not first:
            out[position + 42:position + 46] = new_offset.to_bytes(4, "little")
        first = False
        position = out.find(b"PK\x01\x02", position + 4)
    return bytes(out)


class _PicklePayload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickled_npy(marker) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([_PicklePayload(marker)], dtype=object), allow_pickle=True)
    return buffer.getvalue()


# Each builder returns (file path, expected exception type, message regex).
def _write(tmp_path, data, name="hostile.keras"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def case_lambda_code(tmp_path, marker):
    config = dense_config(activation=_lambda_entry(marker))
    return _write(tmp_path, archive_bytes(config)), UnsafeModelError, "potential risk of arbitrary code execution"


def case_keras2_lambda_layer(tmp_path, marker):
    code = base64.b64encode(marshal.dumps(_marker_code(marker).__code__)).decode()
    config = {"class_name": "Lambda", "config": {"name": "lambda", "function": [code, None, None],
                                                 "function_type": "lambda", "module": "__main__",
                                                 "output_shape": None, "output_shape_type": "raw", "arguments": {}}}
    return _write(tmp_path, archive_bytes(config, weights={})), UnsafeModelError, "Lambda"


def case_os_system_activation(tmp_path, marker):
    config = dense_config(activation={"module": "os", "class_name": "function", "config": "system",
                                      "registered_name": "system"})
    return _write(tmp_path, archive_bytes(config)), UnsafeModelError, "'system' \\(module 'os'\\)"


def case_subprocess_popen(tmp_path, marker):
    config = {"module": "subprocess", "class_name": "Popen", "config": {"args": ["touch", str(marker)]}}
    return _write(tmp_path, archive_bytes(config, weights={})), UnsafeModelError, "'Popen' \\(module 'subprocess'\\)"


def case_builtins_eval(tmp_path, marker):
    config = dense_config(kernel_initializer={"module": "builtins", "class_name": "function", "config": "eval"})
    return _write(tmp_path, archive_bytes(config)), UnsafeModelError, "'eval' \\(module 'builtins'\\)"


def case_builtins_exec_registered_name(tmp_path, marker):
    config = dense_config()
    config["module"], config["registered_name"] = "builtins", "exec"
    return _write(tmp_path, archive_bytes(config)), UnsafeModelError, "'exec'"


def case_importable_module(tmp_path, marker):
    config = {"module": "ff_evil_payload_mod", "class_name": "Payload", "config": {}}
    return _write(tmp_path, archive_bytes(config, weights={})), UnsafeModelError, "ff_evil_payload_mod"


def case_deep_nested_payload(tmp_path, marker):
    config = dense_config(bias_constraint={"class_name": "MaxNorm", "config": {
        "axis": {"module": "posix", "class_name": "system", "config": {"command": f"touch {marker}"}}}})
    return _write(tmp_path, archive_bytes(config)), UnsafeModelError, "posix"


def case_object_array_in_config(tmp_path, marker):
    config = dense_config(units={"class_name": "__numpy__", "config": {"value": [1], "dtype": "object"}})
    return _write(tmp_path, archive_bytes(config)), UnsafeModelError, "dtype object"


def case_pickle_in_npz(tmp_path, marker):
    weights = zip_bytes({"vars/0.npy": _pickled_npy(marker)})
    return _write(tmp_path, archive_bytes(dense_config(), weights_data=weights)), UnsafeModelError, "no pickle"


def case_path_traversal(tmp_path, marker):
    data = archive_bytes(dense_config(), extra={"../escaped.txt": b"x"})
    return _write(tmp_path, data), UnsafeModelError, "path traversal"


def case_absolute_path(tmp_path, marker):
    info = zipfile.ZipInfo("x")
    info.filename = "/tmp/ff_absolute.txt"  # ZipInfo() would strip the leading slash; a hostile tool does not
    data = zip_bytes({"config.json": json.dumps(dense_config()).encode(), "/tmp/ff_absolute.txt": b"x"},
                     infos={"/tmp/ff_absolute.txt": info})
    return _write(tmp_path, data), UnsafeModelError, "plain relative paths"


def case_windows_path(tmp_path, marker):
    data = archive_bytes(dense_config(), extra={"C:\\evil.txt": b"x"})
    return _write(tmp_path, data), UnsafeModelError, "plain relative paths"


def case_symlink_member(tmp_path, marker):
    members = {"config.json": json.dumps(dense_config()).encode(), "model.weights.npz": b"/etc/passwd"}
    data = zip_bytes(members, infos={"model.weights.npz": symlink_info("model.weights.npz")})
    return _write(tmp_path, data), UnsafeModelError, "symbolic links"


def case_zip_bomb(tmp_path, marker):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", json.dumps(dense_config()))
        archive.writestr("model.weights.npz", b"\0" * (24 << 20))
    return _write(tmp_path, buffer.getvalue()), InvalidArchiveError, "zip bomb"


def case_overlapping_entries(tmp_path, marker):
    data = zip_bytes({"config.json": json.dumps(dense_config()).encode(), "metadata.json": b"{}",
                      "model.weights.npz": encode_npz(dense_weights())})
    return _write(tmp_path, _patch_central_offsets(data, 0)), InvalidArchiveError, "overlaps"


def case_duplicate_members(tmp_path, marker):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("config.json", json.dumps(dense_config()))
            archive.writestr("config.json", json.dumps({"module": "os", "class_name": "system"}))
    return _write(tmp_path, buffer.getvalue()), InvalidArchiveError, "twice"


def case_encrypted_member(tmp_path, marker):
    data = bytearray(archive_bytes(dense_config()))
    position = _central_directory(data)
    data[position + 8] |= 0x1  # the central directory's "encrypted" flag bit
    return _write(tmp_path, bytes(data)), InvalidArchiveError, "encrypted"


def case_truncated(tmp_path, marker):
    data = archive_bytes(dense_config())
    return _write(tmp_path, data[: len(data) // 2]), InvalidArchiveError, "not a valid model archive"


def case_random_bytes(tmp_path, marker):
    data = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    return _write(tmp_path, data), InvalidArchiveError, "not a valid model archive"


def case_empty_file(tmp_path, marker):
    return _write(tmp_path, b""), InvalidArchiveError, "not a valid model archive"


def case_json_recursion_bomb(tmp_path, marker):
    return _write(tmp_path, archive_bytes(b"[" * 200_000)), InvalidArchiveError, "not valid JSON"


def case_config_not_object(tmp_path, marker):
    return _write(tmp_path, archive_bytes(b"[1, 2]")), InvalidArchiveError, "JSON object"


def case_weights_hash_mismatch(tmp_path, marker):
    good = encode_npz(dense_weights())
    evil = encode_npz({k: v * 0 + 1e9 for k, v in dense_weights().items()})
    data = archive_bytes(dense_config(), weights_data=evil, metadata={
        "weights_sha256": __import__("hashlib").sha256(good).hexdigest()})
    return _write(tmp_path, data), InvalidArchiveError, "SHA-256"


def case_npz_shape_bomb(tmp_path, marker):
    npy = npy_bytes_with_header({"descr": "<f4", "fortran_order": False, "shape": (1 << 40,)}, b"\0" * 16)
    data = archive_bytes(dense_config(), weights_data=zip_bytes({"vars/0.npy": npy}))
    return _write(tmp_path, data), InvalidArchiveError, "limit|shape bomb"


def case_npz_short_data(tmp_path, marker):
    npy = npy_bytes_with_header({"descr": "<f4", "fortran_order": False, "shape": (3, 2)}, b"\0" * 8)
    data = archive_bytes(dense_config(), weights_data=zip_bytes({"vars/0.npy": npy}))
    return _write(tmp_path, data), InvalidArchiveError, "declared shape"


def case_h5_shape_bomb(tmp_path, marker):
    weights = _h5_bytes(lambda f: f.create_dataset("vars/0", shape=(1 << 20, 1 << 10), dtype="f4",
                                                    chunks=(256, 256)))
    data = archive_bytes(dense_config(), weights_format="h5", weights_data=weights)
    return _write(tmp_path, data), InvalidArchiveError, "shape bomb"


def case_h5_external_link(tmp_path, marker):
    def fill(f):
        f["vars/0"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/secret")

    data = archive_bytes(dense_config(), weights_format="h5", weights_data=_h5_bytes(fill))
    return _write(tmp_path, data), UnsafeModelError, "external link"


def case_h5_external_dataset(tmp_path, marker):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(6, dtype="f4").tobytes())
    weights = _h5_bytes(lambda f: f.create_dataset("vars/0", shape=(3, 2), dtype="f4",
                                                    external=[(str(secret), 0, 24)]))
    data = archive_bytes(dense_config(), weights_format="h5", weights_data=weights)
    return _write(tmp_path, data), UnsafeModelError, "external dataset"


def case_h5_virtual_dataset(tmp_path, marker):
    source = tmp_path / "source.h5"
    with h5py.File(source, "w") as f:
        f["data"] = np.ones((3, 2), "f4")
    layout = h5py.VirtualLayout(shape=(3, 2), dtype="f4")
    layout[:] = h5py.VirtualSource(str(source), "data", shape=(3, 2))
    weights = _h5_bytes(lambda f: f.create_virtual_dataset("vars/0", layout))
    data = archive_bytes(dense_config(), weights_format="h5", weights_data=weights)
    return _write(tmp_path, data), UnsafeModelError, "virtual dataset"


def case_h5_soft_link(tmp_path, marker):
    def fill(f):
        f["vars/0"] = np.ones((3, 2), "f4")
        f["vars/1"] = h5py.SoftLink("/vars/0")

    data = archive_bytes(dense_config(), weights_format="h5", weights_data=_h5_bytes(fill))
    return _write(tmp_path, data), UnsafeModelError, "SoftLink"


def case_h5_string_dataset(tmp_path, marker):
    weights = _h5_bytes(lambda f: f.create_dataset("vars/0", data=np.array([b"x"], dtype=h5py.string_dtype())))
    data = archive_bytes(dense_config(), weights_format="h5", weights_data=weights)
    return _write(tmp_path, data), UnsafeModelError, "only numeric arrays"


def case_legacy_h5_model(tmp_path, marker):
    path = tmp_path / "hostile.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps({"class_name": "Popen", "module": "subprocess",
                                              "config": {"args": ["touch", str(marker)]}})
        f.create_group("model_weights").attrs["layer_names"] = []
    return str(path), UnsafeModelError, "Popen"


def case_directory_with_symlink(tmp_path, marker):
    directory = tmp_path / "model_dir"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps(dense_config()))
    os.symlink("/etc/passwd", directory / "model.weights.npz")
    return str(directory), UnsafeModelError, "symbolic links"


def case_directory_with_hard_link(tmp_path, marker):
    directory = tmp_path / "model_dir"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps(dense_config()))
    outside = tmp_path / "elsewhere.npz"
    outside.write_bytes(encode_npz(dense_weights()))
    os.link(outside, directory / "model.weights.npz")
    return str(directory), UnsafeModelError, "hard links"


def case_config_allocation_bomb(tmp_path, marker):
    config = dense_config(units=1 << 40)  # 12 TiB of kernel declared by a few bytes of JSON
    return _write(tmp_path, archive_bytes(config)), InvalidArchiveError, "more weight memory"


def case_input_shape_allocation_bomb(tmp_path, marker):
    config = {"module": "keras.models", "class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 1 << 20, 1 << 20], "dtype": "float32",
                                                "name": "huge"}},
        {"class_name": "Flatten", "config": {"name": "flatten"}}]}}
    return _write(tmp_path, archive_bytes(config, weights={})), InvalidArchiveError, "more than"


def case_weights_for_other_model(tmp_path, marker):
    weights = dict(dense_weights(), **{"vars/2": np.zeros(3, "f4")})
    return _write(tmp_path, archive_bytes(dense_config(), weights=weights)), InvalidArchiveError, "expected 2"


CASES = [value for name, value in sorted(globals().items()) if name.startswith("case_")]


@pytest.fixture
def payload_module(tmp_path, monkeypatch):
    """An importable module that creates the marker when imported."""
    marker = tmp_path / "MARKER"
    package_dir = tmp_path / "mods"
    package_dir.mkdir()
    (package_dir / "ff_evil_payload_mod.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nclass Payload:\n    def get_config(self):\n        return {{}}\n")
    monkeypatch.syspath_prepend(str(package_dir))
    sys.modules.pop("ff_evil_payload_mod", None)
    return marker


def test_there_are_at_least_twenty_hostile_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[5:])
def test_hostile_file_is_refused_and_runs_nothing(case, tmp_path, payload_module):
    marker = payload_module
    path, expected, message = case(tmp_path, marker)
    with pytest.raises(expected, match=message):
        saving.load_model(path)
    assert not marker.exists()
    assert "ff_evil_payload_mod" not in sys.modules
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not os.path.exists("/tmp/ff_absolute.txt")


@pytest.mark.parametrize("case", [case_os_system_activation, case_importable_module, case_subprocess_popen,
                                  case_builtins_eval], ids=lambda c: c.__name__[5:])
def test_foreign_names_are_refused_even_with_safe_mode_off(case, tmp_path, payload_module):
    path, _, message = case(tmp_path, payload_module)
    with pytest.raises(UnsafeModelError, match=message):
        saving.load_model(path, safe_mode=False)
    assert not payload_module.exists()


def test_every_refusal_is_a_value_error(tmp_path, payload_module):
    for case in CASES:
        directory = tmp_path / case.__name__
        directory.mkdir()
        path, _, _ = case(directory, payload_module)
        with pytest.raises(SavingError) as info:
            saving.load_model(path)
        assert isinstance(info.value, ValueError), case.__name__


# -- controls: the payloads are live when handed to a naive loader ------------------------------------------
def test_control_lambda_payload_runs_when_trusted(tmp_path):
    marker = tmp_path / "MARKER"
    fn = saving.deserialize_keras_object(_lambda_entry(marker), safe_mode=False)
    assert not marker.exists()
    fn(1.0)
    assert marker.exists()


def test_control_popen_payload_runs_in_a_naive_loader(tmp_path):
    marker = tmp_path / "MARKER"
    config = {"module": "subprocess", "class_name": "Popen", "config": {"args": ["touch", str(marker)]}}
    naive = getattr(importlib.import_module(config["module"]), config["class_name"])(**config["config"])
    naive.wait()
    assert marker.exists()


def test_control_module_payload_runs_on_import(tmp_path, payload_module):
    code = "import ff_evil_payload_mod"
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "mods"))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
    assert payload_module.exists()


def test_control_pickle_payload_runs_with_allow_pickle(tmp_path):
    marker = tmp_path / "MARKER"
    np.load(io.BytesIO(_pickled_npy(marker)), allow_pickle=True)
    assert marker.exists()
