"""The README's screenshot, docs/img/claim-page.png: a claim's page from `monitor demo --serve`
in the headless Chromium of the browser tests (tests/browser.py).

Run: .venv/bin/python docs/screenshot.py
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import browser  # noqa: E402

CLAIM = "/claims/ai-chip-funding/chip-venture-target"
OUT = ROOT / "docs" / "img" / "claim-page.png"


def main() -> None:
    from playwright.sync_api import sync_playwright

    if reason := browser.missing():
        sys.exit(f"cannot take the screenshot: {reason}")
    demo = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from monitor.cli import app; app()",
            "demo",
            "--serve",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        base = next(
            m.group(1)
            for line in demo.stdout
            if (m := re.search(r"The pages: (http://127\.0\.0\.1:\d+)/", line))
        )
        with sync_playwright() as p:
            chromium = browser.launch(p)
            page = chromium.new_page(viewport={"width": 1100, "height": 1000})
            page.goto(base + CLAIM, wait_until="load")
            OUT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT))
            chromium.close()
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=20)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
