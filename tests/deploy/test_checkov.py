"""checkov on the rendered production overlay and on deploy/Dockerfile: no failed check, and every check
waived is waived in place (a checkov:skip comment, a checkov.io/skip annotation) with its reason.

checkov runs from its own environment (.venv-checkov, `make install`: its pins conflict with ours),
offline: nothing is downloaded from its vendor's platform."""

from __future__ import annotations

import json
import os
import subprocess

from tests.deploy.conftest import DEPLOY, ROOT

CHECKOV = ROOT / os.environ.get("CHECKOV_VENV", ".venv-checkov") / "bin" / "checkov"
WAIVED = {
    "CKV_DOCKER_2": "Kubernetes ignores HEALTHCHECK",
    "CKV_K8S_15": "pins the image by an immutable tag or digest",
    "CKV_K8S_35": "read their settings, secrets included, from the environment only",
    "CKV_K8S_43": "pins the digest in the overlay",
}


def test_checkov_fails_nothing_and_every_waiver_says_why(rendered_text, tmp_path):
    assert CHECKOV.exists(), "checkov is installed by `make install` into .venv-checkov"
    manifests = tmp_path / "production.yaml"
    manifests.write_text(rendered_text)
    offline = {
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
        "BC_SKIP_MAPPING": "TRUE",
        "CHECKOV_REQUEST_RETRIES": "0",
    }
    done = subprocess.run(
        [
            *(str(CHECKOV), "--skip-download", "-o", "json", "--framework", "kubernetes", "dockerfile"),
            *("-f", str(manifests), str(DEPLOY / "Dockerfile")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **offline},
    )
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    by_type = {r["check_type"]: r for r in reports}
    assert set(by_type) == {"kubernetes", "dockerfile"}, done.stderr[-2000:]
    for kind, report in by_type.items():
        summary = report["summary"]
        failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
        assert summary["failed"] == 0 and summary["parsing_errors"] == 0, (kind, failed)
        assert summary["passed"] > 50, kind
        for check in report["results"]["skipped_checks"]:
            reason = check.get("check_result", {}).get("suppress_comment", "")
            assert check["check_id"] in WAIVED, (check["check_id"], check["resource"])
            assert WAIVED[check["check_id"]] in reason, (check["check_id"], reason)
    assert by_type["kubernetes"]["summary"]["resource_count"] >= len(rendered_text.split("\n---\n"))
    assert by_type["kubernetes"]["summary"]["skipped"] == 3 * 6  # 3 waivers, 5 Deployments and the Job
