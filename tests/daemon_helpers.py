"""Run `monitor` as a real subprocess, the way a person or systemd would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

MONITOR = [sys.executable, "-c", "from monitor.cli import app; app()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def monitor_env(tmp_path: Path, rules: Path, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the developer's Slack or database settings leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MONITOR_"))}
    env.update(
        MONITOR_DATABASE_URL=f"sqlite:///{tmp_path / 'monitor.db'}",
        MONITOR_RULES=str(rules),
        MONITOR_HTTP_ADDR=f"127.0.0.1:{free_port()}",
        MONITOR_FETCH_TIMEOUT="2",
        MONITOR_CONNECT_TIMEOUT="1",
        MONITOR_DELIVERY_EVERY="0.5",
    )
    env.update(extra)
    return env


def run_monitor(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MONITOR, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def start_monitor(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen([*MONITOR, *args], env=env, stdout=handle, stderr=subprocess.STDOUT)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:  # not listening yet
        return 0, str(exc)
