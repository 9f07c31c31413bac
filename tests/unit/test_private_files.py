"""The one owner-only writer (private_files.py): every page, docs site and key is 0600 in a
0700 folder, whatever a crash or an earlier file left behind."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from vawg_warehouse.private_files import write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_and_its_folder_are_owner_only(tmp_path: Path) -> None:
    page = tmp_path / "reports" / "runs" / "x.html"
    write_private(page, "<p>x</p>")
    assert page.read_text() == "<p>x</p>"
    assert _mode(page) == 0o600
    assert _mode(page.parent) == 0o700


def test_a_leftover_temporary_file_does_not_pass_on_its_mode(tmp_path: Path) -> None:
    """A crash between creating the temporary file and renaming it leaves it behind; the next
    write must not reuse it (with O_TRUNC it kept its mode: a 0644 leftover made a 0644 page)."""
    page = tmp_path / "scorecard.html"
    leftover = tmp_path / "scorecard.html.partial"
    leftover.write_text("half a page")
    leftover.chmod(0o644)
    write_private(page, "<p>whole</p>")
    assert _mode(page) == 0o600
    assert page.read_text() == "<p>whole</p>"
    assert not leftover.exists()


def test_an_existing_file_of_another_mode_is_replaced_by_an_owner_only_one(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text("old")
    page.chmod(0o644)
    write_private(page, b"new bytes")
    assert page.read_bytes() == b"new bytes"
    assert _mode(page) == 0o600


def test_create_once_refuses_to_replace_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    key = tmp_path / "secrets" / "pseudonym.key"
    write_private(key, "first", replace=False)
    with pytest.raises(FileExistsError):
        write_private(key, "second", replace=False)
    assert key.read_text() == "first"
    assert _mode(key) == 0o600
    assert sorted(p.name for p in key.parent.iterdir()) == ["pseudonym.key"]
