"""What the reference documents in ``docs/`` say, read back for ``test_reference_docs.py``.

``docs/api.md`` lists every route in tables of ``| method | path | who | what |`` under a heading per
OpenAPI document; ``python -m tests.platform.reference_docs`` prints a draft row for each route a
document has and the tables lack (the "what" still to be written), which is the quick way to add one;
``python -m tests.platform.reference_docs --codes`` prints the error code table.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

import crm
from crm.platform.auth import Role
from crm.platform.problems import CODES
from crm.platform.settings import PlatformSettings
from crm.services import SERVICES

DOCS = Path(__file__).resolve().parents[2] / "docs"
API_SERVICES = ("identity", "bank-sync", "payments", "workflow")
"""The services with an OpenAPI document (the web UI has none)."""
EVERY_SERVICE = "every service"
"""The heading of the routes every document has; ``<prefix>`` in their paths is the service's own."""
PREFIX = "<prefix>"
ROLE_ORDER = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM, Role.PAYMENT_PROCESSOR)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    who: str
    what: str


def build_apps(data_dir: Path) -> dict[str, FastAPI]:
    """The API services' apps, built but not started: their documents need no database or bus."""
    settings = PlatformSettings(data_dir=data_dir, jwt_secret="reference-docs-" + "x" * 32)
    return {name: SERVICES[name].create_app(settings) for name in API_SERVICES}


def document_routes(app: FastAPI) -> list[Route]:
    """Every operation of the app's OpenAPI document, with its declared access (``x-access``)."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            summary = operation.get("description", "").split("\n\n")[0].replace("\n", " ")
            routes.append(Route(method.upper(), path, operation["x-access"], summary))
    return routes


def audit_prefix(app: FastAPI) -> str:
    """The path prefix of the service's own audit trail and dead letters (``<prefix>`` in the table)."""
    prefix: str = app.state.spec.audit_prefix
    return prefix


def who(access: str) -> str:
    """How docs/api.md writes an ``x-access``: roles in the matrix's order, ``public``, or ``signed``."""
    if access == "public":
        return "public"
    if access.startswith("signed: "):
        header = access.removeprefix("signed: ").split(" ")[0]
        return f"signed `{header}`"
    roles = {r.strip() for r in access.split(",")}
    return ", ".join(r for r in ROLE_ORDER if r in roles)


def same_access(written: str, access: str) -> bool:
    """Whether the table's "who" says what the route's declared access says (roles in any order)."""
    if access == "public" or access.startswith("signed: "):
        return written == who(access)
    return {r.strip() for r in written.split(",")} == {r.strip() for r in access.split(",")}


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def route_tables(markdown: str) -> dict[str, list[Route]]:
    """The route tables of docs/api.md by the heading above them (``### bank-sync``, ...): rows whose
    first cell is an HTTP method; paths are written in backticks."""
    tables: dict[str, list[Route]] = {}
    heading = ""
    for line in markdown.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip().split(" ")[0].strip("`")
            if line.lstrip("#").strip().lower().startswith(EVERY_SERVICE):
                heading = EVERY_SERVICE
            continue
        if not line.startswith("|"):
            continue
        cells = _cells(line)
        if len(cells) == 4 and re.fullmatch(r"GET|POST|PUT|PATCH|DELETE", cells[0]):
            method, path, written, what = cells
            tables.setdefault(heading, []).append(Route(method, path.strip("`"), written, what))
    return tables


def markdown_sections(markdown: str, level: int) -> dict[str, str]:
    """The text under each heading of ``level`` (up to the next heading of that level or above)."""
    sections: dict[str, str] = {}
    title: str | None = None
    lines: list[str] = []
    for line in markdown.splitlines():
        match = re.match(r"(#+) (.*)", line)
        if match and len(match.group(1)) <= level:
            if title is not None:
                sections[title] = "\n".join(lines)
            title, lines = (match.group(2).strip() if len(match.group(1)) == level else None), []
            continue
        lines.append(line)
    if title is not None:
        sections[title] = "\n".join(lines)
    return sections


def quoted(text: str) -> set[str]:
    """Every name written in backticks in ``text``."""
    return set(re.findall(r"`([^`\n]+)`", text))


def draft_rows(apps: dict[str, FastAPI], markdown: str) -> Iterator[str]:
    """Markdown rows for the routes the documents have and docs/api.md's tables lack."""
    tables = route_tables(markdown)
    for name, app in apps.items():
        listed = {(r.method, r.path) for r in tables.get(name, [])}
        prefix = audit_prefix(app)
        listed |= {(r.method, r.path.replace(PREFIX, prefix)) for r in tables.get(EVERY_SERVICE, [])}
        for route in document_routes(app):
            if (route.method, route.path) not in listed:
                yield f"{name}: | {route.method} | `{route.path}` | {who(route.who)} | {route.what} |"


def declared_codes() -> dict[str, str]:
    """Every problem code the code base declares -> its English text (each module imported, as the
    services are at start)."""
    for module in pkgutil.walk_packages(crm.__path__, "crm."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    return {code: declared.text for code, declared in CODES.items()}


def code_row(code: str, text: str) -> str:
    """The row of docs/api.md's error code table for a code (its English, params in braces)."""
    escaped = text.replace("|", "\\|").replace("!r}", "}")
    return f"| `{code}` | {escaped} |"


def code_rows(markdown: str) -> dict[str, str]:
    """The error code table of docs/api.md: code -> its row as written."""
    section = markdown.split("## Error codes", 1)[-1]
    return {m[1]: m[0] for m in re.finditer(r"^\| `([a-z_.]+)` \|.*\|$", section, flags=re.M)}


def main() -> None:
    if "--codes" in sys.argv:  # the whole error code table, to paste into docs/api.md
        print("| code | what it says (English; params in braces) |\n|---|---|")
        print("\n".join(code_row(code, text) for code, text in sorted(declared_codes().items())))
        return
    with tempfile.TemporaryDirectory() as data_dir:
        apps = build_apps(Path(data_dir))
        rows: list[Any] = list(draft_rows(apps, (DOCS / "api.md").read_text(encoding="utf-8")))
    print("\n".join(rows) or "docs/api.md lists every route.")


if __name__ == "__main__":
    main()
