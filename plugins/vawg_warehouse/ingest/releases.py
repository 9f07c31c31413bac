"""Which data.police.uk release a landing file came from, so the newer release of a month wins.

police.uk publishes every month again in later archives (outcomes change), and a custom download
holds the months as they stood the day it was made. The order files are registered in (folder
names, sorted) says nothing about which is newer, so each file's release is recorded on its
batch (``audit.load_batch.source_release_date`` and ``source_release``), from, in this order:

1. a release manifest the operator drops beside the files or in any folder above them (up to the
   dataset's landing folder): ``release.yml`` with ``released: 2022-07-18`` (the day the archive
   was published or the custom download made) and, optionally, ``name:``;
2. the name of a folder above the file holding a date, ``2023-01`` or ``2023-01-19`` (the archive
   ``2023-01.zip`` unzipped into ``policeuk/2023-01/``, or ``policeuk/archive-2023-01/``): the first
   of that month when no day is given. The month folder the archive itself holds (``2022-07/``
   for ``2022-07-*.csv``) is the data's month, not a release, and is passed over;
3. files that ``vawg fetch-policeuk`` wrote from the API (``policeuk/api-YYYY-MM/``): release
   ``api``, dated the day they were fetched (their manifest), ranked below any archive of the
   month whatever the dates, as the archive replaces them;
4. otherwise no release: such a file ranks below every dated release (ties: registered last).

``int_policeuk_crimes_deduplicated`` and ``int_policeuk_outcomes_deduplicated`` rank a force's
month by that date, newest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

MANIFEST = "release.yml"
API_FOLDER_PREFIX = "api-"
_DATED = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)")
_FILE_MONTH = re.compile(r"^(\d{4}-\d{2})-")


@dataclass(frozen=True)
class Release:
    released: date | None
    source: str  # how it was found: "manifest <path>", "folder <name>", "api <...>", "unknown"

    @property
    def is_api(self) -> bool:
        return self.source.startswith("api")


class ManifestError(ValueError):
    """A release manifest that cannot be read: names the file and the rule, never its text."""


def read_manifest(path: Path, relative: str) -> date:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raise ManifestError(f"{relative}: not readable as YAML") from None
    released = data.get("released") if isinstance(data, dict) else None
    if isinstance(released, str):
        try:
            released = date.fromisoformat(released)
        except ValueError:
            released = None
    if not isinstance(released, date):
        raise ManifestError(f"{relative}: 'released' must be a date (YYYY-MM-DD)")
    return released


def release_of(landing_root: Path, dataset_folder: str, relative_path: str) -> Release:
    """The release of the landing file at ``relative_path`` (below ``landing_root``), looking in
    the folders from the file's own up to ``dataset_folder`` (the contract's landing path)."""
    parts = relative_path.split("/")
    top = len(dataset_folder.strip("/").split("/"))
    folders = parts[top:-1]  # between the dataset's landing folder and the file
    file_month = _FILE_MONTH.match(parts[-1])
    is_api = any(f.startswith(API_FOLDER_PREFIX) for f in folders)
    # 1. a manifest, nearest first
    for depth in range(len(folders), -1, -1):
        relative = "/".join([*parts[:top], *folders[:depth], MANIFEST])
        path = landing_root / relative
        if path.is_file() and not path.is_symlink():
            released = read_manifest(path, relative)
            return Release(released, ("api manifest " if is_api else "manifest ") + relative)
    # 2. a dated folder name, nearest first, passing over the archive's own month folder
    for depth in range(len(folders) - 1, -1, -1):
        name = folders[depth]
        if name.startswith(API_FOLDER_PREFIX):
            continue
        if depth == len(folders) - 1 and file_month and name == file_month[1]:
            continue
        found = _DATED.search(name)
        if found:
            year, month, day = int(found[1]), int(found[2]), int(found[3] or 1)
            try:
                return Release(date(year, month, day), f"folder {name}")
            except ValueError:
                continue
    return Release(None, "api (no manifest)" if is_api else "unknown")
