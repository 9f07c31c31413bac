"""Headless Chromium for the scorecard: print a page to PDF, take a screenshot, read its DOM.

Chromium is a system package (Debian: ``apt-get install chromium``), found on PATH or at
``VAWG_CHROMIUM``. Every call starts a fresh browser with a throwaway profile, no network
services of its own (no background networking, component updates or first-run pages) and no
sandbox (containers and root, where Chromium's sandbox cannot start). Pages are local files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_ENV = "VAWG_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)


class BrowserError(RuntimeError):
    """Chromium is missing or failed (the message says which, and how to install it)."""


def find_chromium() -> str | None:
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    chromium = find_chromium()
    if chromium is None:
        raise BrowserError(
            "Chromium is not installed (Debian: apt-get install chromium; or set "
            f"{CHROMIUM_ENV} to its path)"
        )
    with tempfile.TemporaryDirectory(prefix="vawg-chromium-") as profile:
        done = subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        raise BrowserError(f"chromium exited {done.returncode}: {done.stderr.strip()[-800:]}")
    return done


def _url(page: Path) -> str:
    return page.resolve().as_uri()


def print_to_pdf(page: Path, pdf: Path, timeout: float = 120) -> Path:
    """The page as a PDF (A4 from the page's print CSS), without Chromium's header and footer."""
    pdf.parent.mkdir(parents=True, exist_ok=True)
    _run(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", _url(page)], timeout)
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise BrowserError(f"chromium wrote no PDF for {page.name}")
    return pdf


def screenshot(
    page: Path, png: Path, width: int = 1280, height: int = 16000, timeout: float = 120
) -> Path:
    """A PNG of the page at ``width`` pixels, cropped to where the page's content ends."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--screenshot={png}", f"--window-size={width},{height}", _url(page)], timeout)
    if not png.exists():
        raise BrowserError(f"chromium wrote no screenshot of {page.name}")
    _crop_trailing_blank(png)
    return png


def dump_dom(page: Path, timeout: float = 120) -> str:
    """The page's DOM after Chromium has loaded it, serialised (what a reader's browser shows)."""
    return _run(["--dump-dom", _url(page)], timeout).stdout


def _crop_trailing_blank(png: Path, margin: int = 24) -> None:
    from PIL import Image, ImageChops

    with Image.open(png) as image:
        rgb = image.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height - 1)))
    box = ImageChops.difference(rgb, background).getbbox()
    if box is None:
        return
    bottom = min(rgb.height, box[3] + margin)
    if bottom < rgb.height:
        rgb.crop((0, 0, rgb.width, bottom)).save(png)
