"""runsite.atomic.write_atomic (the one way runsite replaces a file) and runsite.cache.JsonCache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runsite.atomic import temp_path, write_atomic


def test_writes_str_as_utf8_and_bytes_as_is(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "f.txt"
    assert write_atomic(target, "é\n") == 3
    assert target.read_bytes() == "é\n".encode()
    assert write_atomic(target, b"\x00\x01") == 2
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]


def test_without_mkdir_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "missing" / "f.txt", "x", mkdir=False)


def test_a_failed_replace_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.mkdir()  # a folder where the file should go: os.replace refuses
    (target / "inside").write_text("kept")
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert (target / "inside").read_text() == "kept"
    assert not temp_path(target).exists()
    assert temp_path(target).name == f".f.{os.getpid()}.tmp"


def test_json_cache_reads_once_treats_corrupt_as_empty_and_saves_when_dirty(
    tmp_path: Path,
) -> None:
    from runsite.cache import JsonCache

    path = tmp_path / "c" / "cache.json"
    cache = JsonCache(path, "test cache")
    assert cache.data == {}
    cache.save()
    assert not path.exists()  # nothing changed, nothing written
    cache.data["a"] = [1, "x"]
    cache.dirty = True
    cache.save()
    assert JsonCache(path, "test cache").data == {"a": [1, "x"]}
    path.write_text("{not json")
    assert JsonCache(path, "test cache").data == {}
    path.write_text("[1, 2]")  # valid JSON, not a mapping
    assert JsonCache(path, "test cache").data == {}
