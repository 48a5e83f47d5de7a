"""Specifications of the development pepper file: made once, atomically, and never empty."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from auth.key_material import PEPPER_FILE_NAME, load_pepper


def race_to_load(data_dir: Path, workers: int) -> list[bytes]:
    """``workers`` threads released together, each loading the pepper of a fresh directory."""
    start = threading.Barrier(workers)
    peppers: list[bytes] = []

    def load() -> None:
        start.wait()
        peppers.append(load_pepper(None, data_dir))

    threads = [threading.Thread(target=load) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return peppers


def test_workers_racing_to_make_the_pepper_all_read_the_same_complete_one(tmp_path: Path):
    for attempt in range(20):
        peppers = race_to_load(tmp_path / str(attempt), workers=8)

        assert len(peppers) == 8
        assert len(set(peppers)) == 1
        assert len(peppers[0]) >= 32


def test_the_pepper_file_is_private_and_no_temporary_file_is_left(tmp_path: Path):
    load_pepper(None, tmp_path)

    assert [path.name for path in tmp_path.iterdir()] == [PEPPER_FILE_NAME]
    assert stat.S_IMODE((tmp_path / PEPPER_FILE_NAME).stat().st_mode) == 0o600


def test_the_pepper_is_kept_across_restarts(tmp_path: Path):
    assert load_pepper(None, tmp_path) == load_pepper(None, tmp_path)


def test_an_empty_pepper_file_is_refused(tmp_path: Path):
    (tmp_path / PEPPER_FILE_NAME).write_text("")

    with pytest.raises(RuntimeError, match="is empty"):
        load_pepper(None, tmp_path)
