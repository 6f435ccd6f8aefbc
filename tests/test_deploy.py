"""What the deployment files expose and what they send to Docker."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_publishes_the_http_endpoint_on_loopback_only():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    ports = [p for service in compose["services"].values() for p in service.get("ports", [])]
    assert ports, "the replicas' /healthz and /metrics are published"
    assert all(str(p).startswith("127.0.0.1:") for p in ports), ports


def test_secrets_and_local_state_stay_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for pattern in (".env", ".env.*", "*.db", ".git", ".venv", "**/__pycache__"):
        assert pattern in ignored, pattern
    for needed in ("monitor", "rules", "pyproject.toml", "README.md"):  # the Dockerfile's COPYs
        assert needed not in ignored
