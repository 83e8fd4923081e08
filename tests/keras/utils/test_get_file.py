"""get_file against a real HTTP server on 127.0.0.1: cache, hashes, interrupted transfers,
offline errors, safe extraction."""

import hashlib
import io
import os
import tarfile
import zipfile

import pytest
from ff_local_http import closed_port_url, files_under, keras_home_fixture, server_fixture  # noqa: F401

from featherflow.keras.utils import get_file
from featherflow.keras.utils.file_utils import DownloadError

PAYLOAD = bytes(range(256)) * 300  # 76,800 bytes: several read chunks


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def test_download_cache_and_location(server, keras_home, capsys):
    server.add("blob.bin", PAYLOAD)
    path = get_file("blob.bin", origin=server.url + "blob.bin", file_hash=sha256(PAYLOAD))
    assert path == os.path.join(str(keras_home), "datasets", "blob.bin")
    assert open(path, "rb").read() == PAYLOAD
    out = capsys.readouterr().out
    assert f"Downloading data from {server.url}blob.bin" in out
    assert f"{len(PAYLOAD)}/{len(PAYLOAD)} [" in out  # the progress bar finished
    # second call: served from the cache, no request
    assert get_file("blob.bin", origin=server.url + "blob.bin", file_hash=sha256(PAYLOAD)) == path
    assert server.count("blob.bin") == 1
    assert files_under(keras_home) == [os.path.join("datasets", "blob.bin")]


def test_default_cache_is_home_keras(server, monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    server.add("a.txt", b"abc")
    path = get_file(origin=server.url + "a.txt")  # fname from the URL
    assert path == str(tmp_path / "home" / ".keras" / "datasets" / "a.txt")


def test_file_found_offline_in_existing_cache(keras_home):
    # A file tf.keras downloaded earlier is used without any network access.
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "mnist.npz").write_bytes(b"cached")
    path = get_file("mnist.npz", origin=closed_port_url() + "mnist.npz", file_hash=sha256(b"cached"))
    assert open(path, "rb").read() == b"cached"


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_hash_mismatch_of_fresh_download_leaves_nothing(server, keras_home, algorithm):
    server.add("blob.bin", PAYLOAD)
    wrong = hashlib.new(algorithm, b"something else").hexdigest()
    with pytest.raises(ValueError, match=f"The {algorithm} file hash .* does not match the expected value of {wrong}"):
        get_file("blob.bin", origin=server.url + "blob.bin", file_hash=wrong)
    assert files_under(keras_home) == []


def test_md5_hash_accepted_and_md5_hash_alias(server, keras_home):
    server.add("blob.bin", PAYLOAD)
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    get_file("blob.bin", origin=server.url + "blob.bin", file_hash=md5)
    get_file("blob.bin", origin=server.url + "blob.bin", md5_hash=md5)
    assert server.count("blob.bin") == 1


def test_cached_file_with_wrong_hash_is_fetched_again(server, keras_home, capsys):
    server.add("blob.bin", PAYLOAD)
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "blob.bin").write_bytes(PAYLOAD[:1000])  # stale/partial copy
    path = get_file("blob.bin", origin=server.url + "blob.bin", file_hash=sha256(PAYLOAD))
    assert "hash does not match" in capsys.readouterr().out
    assert server.count("blob.bin") == 1
    assert open(path, "rb").read() == PAYLOAD


def test_interrupted_response_is_not_cached(server, keras_home):
    server.add("blob.bin", PAYLOAD)
    server.truncate["blob.bin"] = 5000
    with pytest.raises(DownloadError, match="interrupted"):
        get_file("blob.bin", origin=server.url + "blob.bin")  # no hash: only the length can tell
    assert files_under(keras_home) == []
    # the next call downloads again (the partial file was not taken as complete)
    del server.truncate["blob.bin"]
    path = get_file("blob.bin", origin=server.url + "blob.bin")
    assert open(path, "rb").read() == PAYLOAD
    assert server.count("blob.bin") == 2


def test_http_error_names_status(server, keras_home):
    with pytest.raises(DownloadError, match="404"):
        get_file("missing.bin", origin=server.url + "missing.bin")
    assert files_under(keras_home) == []


def test_offline_error_text(keras_home):
    url = closed_port_url() + "data.npz"
    with pytest.raises(DownloadError) as info:
        get_file("data.npz", origin=url)
    message = str(info.value)
    assert "'data.npz'" in message
    assert url in message
    assert os.path.join(str(keras_home), "datasets", "data.npz") in message
    assert isinstance(info.value, OSError)
    assert files_under(keras_home) == []


@pytest.mark.parametrize("fname", ["sub/file.bin", "../file.bin", "/tmp/file.bin", "a\\b", ".."])
def test_fname_with_path_separator_refused(fname, keras_home):
    with pytest.raises(ValueError, match="plain file name"):
        get_file(fname, origin="http://127.0.0.1:1/file.bin")


def test_missing_origin():
    with pytest.raises(ValueError, match="origin"):
        get_file("x")


def _tar_bytes(entries, mode="w:gz"):
    """entries: list of (TarInfo-configuring callable, data)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for configure, data in entries:
            info = tarfile.TarInfo("x")
            configure(info)
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def _named(name, kind=tarfile.REGTYPE, linkname=""):
    def configure(info):
        info.name, info.type, info.linkname = name, kind, linkname

    return configure


def test_extract_tar_and_untar(server, keras_home):
    archive = _tar_bytes([(_named("pack", tarfile.DIRTYPE), b""), (_named("pack/inner.txt"), b"hello")])
    server.add("pack.tar.gz", archive)
    path = get_file("pack.tar.gz", origin=server.url + "pack.tar.gz", extract=True)
    assert path.endswith("pack.tar.gz")
    assert (keras_home / "datasets" / "pack" / "inner.txt").read_bytes() == b"hello"
    folder = get_file("pack", origin=server.url + "pack.tar.gz", untar=True, cache_subdir="untarred")
    assert folder == str(keras_home / "untarred" / "pack")
    assert (keras_home / "untarred" / "pack" / "inner.txt").read_bytes() == b"hello"


def test_extract_zip(server, keras_home):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("folder/a.txt", b"zip content")
    server.add("z.zip", buffer.getvalue())
    get_file("z.zip", origin=server.url + "z.zip", extract=True)
    assert (keras_home / "datasets" / "folder" / "a.txt").read_bytes() == b"zip content"


MALICIOUS_TARS = {
    "dotdot": [(_named("ok.txt"), b"fine"), (_named("../escaped.txt"), b"evil")],
    "nested_dotdot": [(_named("a/../../escaped.txt"), b"evil")],
    "absolute": [(_named("/tmp/ff_escaped_absolute.txt"), b"evil")],
    "symlink": [(_named("link", tarfile.SYMTYPE, "../.."), b""), (_named("link/escaped.txt"), b"evil")],
    "hardlink": [(_named("hard", tarfile.LNKTYPE, "/etc/passwd"), b"")],
    "device": [(_named("dev", tarfile.CHRTYPE), b"")],
}


@pytest.mark.parametrize("case", sorted(MALICIOUS_TARS))
def test_malicious_tar_refused(case, server, keras_home, tmp_path):
    server.add("evil.tar.gz", _tar_bytes(MALICIOUS_TARS[case]))
    before = set(files_under(tmp_path))
    with pytest.raises(ValueError, match="Refusing to extract archive member"):
        get_file("evil.tar.gz", origin=server.url + "evil.tar.gz", extract=True)
    created = set(files_under(tmp_path)) - before
    # only the downloaded archive itself: nothing extracted, inside or outside the target
    assert created == {os.path.join("keras_home", "datasets", "evil.tar.gz")}
    assert not os.path.exists("/tmp/ff_escaped_absolute.txt")
    with pytest.raises(ValueError, match="Refusing"):
        get_file("evil", origin=server.url + "evil.tar.gz", untar=True)
    assert not (keras_home / "datasets" / "evil").exists()


@pytest.mark.parametrize("member", ["../escaped.txt", "/abs/escaped.txt", "a/../../escaped.txt"])
def test_malicious_zip_refused(member, server, keras_home, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fine.txt", b"ok")
        archive.writestr(zipfile.ZipInfo(member), b"evil")
    server.add("evil.zip", buffer.getvalue())
    before = set(files_under(tmp_path))
    with pytest.raises(ValueError, match="Refusing to extract archive member"):
        get_file("evil.zip", origin=server.url + "evil.zip", extract=True)
    assert set(files_under(tmp_path)) - before == {os.path.join("keras_home", "datasets", "evil.zip")}


def test_zip_symlink_refused(server, keras_home):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777 << 16)  # S_IFLNK
        archive.writestr(info, b"/etc")
    server.add("link.zip", buffer.getvalue())
    with pytest.raises(ValueError, match="symbolic link"):
        get_file("link.zip", origin=server.url + "link.zip", extract=True)
    assert not (keras_home / "datasets" / "link").exists()
