"""deploy/Dockerfile, checked without a container daemon: hadolint, what the manifests rely on (its
user, ports, command), and that the wheel it installs carries every file the services read."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from crm.services import SERVICES
from tests.deploy.conftest import BIN, DEPLOY, ROOT, container

DOCKERFILE = DEPLOY / "Dockerfile"


def stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped), by stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            found.append([])
        found[-1].append(line)
    return found


def test_hadolint_finds_nothing():
    done = subprocess.run([str(BIN / "hadolint"), str(DOCKERFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_base_image_is_pinned_to_a_release():
    bases = [stage[0].split()[1] for stage in stages()]
    assert len(bases) >= 3  # front-end packages, build, the image itself
    for base in bases:
        _, _, tag = base.partition(":")
        assert tag and tag != "latest" and re.match(r"\d+\.\d+\.\d+-", tag), base
    python = bases[-1]
    assert python.startswith("python:3.") and int(python.split(":")[1].split(".")[1]) >= 11
    assert "slim" in python


def test_the_final_stage_copies_the_built_environment_and_runs_as_the_pods_expect(rendered):
    final = stages()[-1]
    assert not any(re.search(r"\b(gcc|build-essential|apt-get install|pip install|npm)\b", i) for i in final)
    assert any(i.startswith("COPY --from=build /opt/crm /opt/crm") for i in final)
    (user,) = (i.split()[1] for i in final if i.startswith("USER "))
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) >= 10000
    assert 'ENTRYPOINT ["crm"]' in final
    exposed = {int(p) for i in final if i.startswith("EXPOSE ") for p in i.split()[1:]}
    assert exposed == {d.default_port for d in SERVICES.values()}
    for deployment in [*rendered.of("Deployment").values(), *rendered.of("Job").values()]:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == int(uid), deployment["metadata"]["name"]
        assert container(deployment)["securityContext"]["runAsUser"] == int(uid)


def test_the_web_assets_come_from_the_lock_file_and_land_where_the_web_ui_serves_them():
    build = "\n".join(i for stage in stages() for i in stage)
    assert "package-lock.json" in build and "npm ci --omit=dev" in build
    assert 'web="$(' in build and '"$web/assets/node_modules"' in build
    from crm.web.app import ASSETS

    assert ASSETS.parts[-3:] == ("web", "assets", "node_modules")


def test_the_wheel_carries_every_file_the_services_read():
    """setuptools puts only the package data pyproject.toml names into the wheel the image installs."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    src = ROOT / "src"
    packages = [p.parent for p in (src / "crm").rglob("__init__.py")]
    covered: set[Path] = set()
    for package in packages:
        name = ".".join(package.relative_to(src).parts)
        for pattern in package_data.get("*", []) + package_data.get(name, []):
            covered.update(package.glob(pattern))
    ignored = ("node_modules", "__pycache__")
    needed = {
        path
        for path in (src / "crm").rglob("*")
        if path.is_file()
        and path.suffix not in (".py", ".pyc")
        and not any(part in ignored for part in path.parts)
        and path.parent.name != "assets"  # package.json, package-lock.json: the npm stage's input
    }
    assert needed, "no data files found"
    assert needed <= covered, sorted(str(p.relative_to(src)) for p in needed - covered)


def test_the_build_context_is_only_what_the_image_is_built_from():
    lines = [ln for ln in (ROOT / ".dockerignore").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines[0] == "*"
    assert {ln for ln in lines if ln.startswith("!")} == {
        "!pyproject.toml",
        "!constraints.txt",
        "!README.md",
        "!src/",
    }
    assert "src/**/node_modules" in lines
    sources = {
        s
        for stage in stages()
        for i in stage
        if i.startswith("COPY ") and "--from" not in i
        for s in i.split()[1:-1]
    }
    included = [ln[1:].rstrip("/") for ln in lines if ln.startswith("!")]
    assert all(any(s == inc or s.startswith(inc + "/") for inc in included) for s in sources), sources
