"""dbt docs as one static page (``dbt docs generate --static``), for the Airflow UI and auditors.

The page embeds the manifest (every model, column, test, source and exposure with its
description) and the catalog (the relations as they stand in the warehouse, column types, no
row counts or values). It is generated in process on the manifest the run has already parsed
(no second parse, no compile of ~1,400 nodes) and written owner-only like the run reports.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from vawg_warehouse.config import Settings, get_settings

log = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700


class DocsError(RuntimeError):
    """dbt could not generate its docs."""


def docs_dir(reports_dir: Path) -> Path:
    return reports_dir / "dbt_docs"


def generate(settings: Settings | None = None, out_dir: Path | None = None) -> Path:
    from dbt.cli.main import dbtRunner

    from vawg_warehouse.dbt_run import transform

    settings = settings or get_settings()
    out_dir = out_dir or docs_dir(settings.reports_dir)
    manifest = transform.parsed_manifest(settings)
    transform._dbt_environment(settings)
    project = str(settings.dbt_project_dir)
    with tempfile.TemporaryDirectory(prefix="vawg-dbt-docs-") as tmp:
        target = Path(tmp) / "target"
        target.mkdir()
        manifest.write(str(target / "manifest.json"))
        result = dbtRunner(manifest=manifest).invoke(
            [
                "docs",
                "generate",
                "--no-compile",
                "--static",
                "--project-dir",
                project,
                "--profiles-dir",
                project,
                "--target-path",
                str(target),
                "--log-path",
                str(Path(tmp) / "logs"),
                "--log-level-file",
                "none",
            ]
        )
        page = target / "static_index.html"
        if not result.success or not page.exists():
            raise DocsError(f"dbt docs generate failed: {result.exception or 'see the log'}")
        out_dir.mkdir(parents=True, exist_ok=True)
        out_dir.chmod(FOLDER_MODE)
        written = out_dir / "index.html"
        tmp_copy = out_dir / ".index.html.tmp"
        shutil.copyfile(page, tmp_copy)
        os.chmod(tmp_copy, FILE_MODE)
        tmp_copy.replace(written)
    return written
