"""A real headless Chromium for the pages' browser tests and the README's screenshot:
Debian's `chromium` (installed by .ci/run) driven by the `playwright` package. Never
`playwright install`: it downloads browser builds this machine cannot reach."""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium stalls on connections refused offline.
ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing() -> str | None:
    """Why there is no browser to test with, or None when there is."""
    if find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    return None


def launch(playwright: Any) -> Any:
    """Chromium, headless, with no network of its own."""
    path = CHROMIUM if CHROMIUM.exists() else Path(shutil.which("chromium") or CHROMIUM)
    return playwright.chromium.launch(executable_path=str(path), args=ARGS)
