"""docs/api.md, docs/extracts.md and docs/data-model.md say what the code does.

Pure tests: the apps are built (not started) for their OpenAPI documents, and the models and the
extract specs are read as they are.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import MetaData, Table

from crm.bank_sync.sync.entities import LOAD_ORDER, EntitySpec
from crm.payments import core_extract
from crm.payments.ledger.schemas import PaymentChannel, PaymentStatus
from crm.platform import events
from crm.platform.auth import Access
from tests.platform.reference_docs import (
    DOCS,
    EVERY_SERVICE,
    PREFIX,
    audit_prefix,
    build_apps,
    code_row,
    code_rows,
    declared_codes,
    document_routes,
    markdown_sections,
    quoted,
    route_tables,
    same_access,
)

API = (DOCS / "api.md").read_text(encoding="utf-8")
EXTRACTS = (DOCS / "extracts.md").read_text(encoding="utf-8")
DATA_MODEL = (DOCS / "data-model.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    return build_apps(tmp_path_factory.mktemp("reference-docs"))


def _documented(apps: dict[str, FastAPI]) -> dict[str, dict[tuple[str, str], str]]:
    """Per service, the routes docs/api.md lists for it (its own table and the common one) -> who."""
    tables = route_tables(API)
    listed = {}
    for name, app in apps.items():
        rows = {(r.method, r.path): r.who for r in tables.get(name, [])}
        for r in tables.get(EVERY_SERVICE, []):
            rows[(r.method, r.path.replace(PREFIX, audit_prefix(app)))] = r.who
        listed[name] = rows
    return listed


def test_every_route_of_every_document_is_in_the_table_and_no_other(apps):
    documented = _documented(apps)
    assert set(route_tables(API)) == {EVERY_SERVICE, *apps}, "a table per document, and the common one"
    for name, app in apps.items():
        actual = {(r.method, r.path) for r in document_routes(app)}
        assert actual - set(documented[name]) == set(), f"{name}: routes docs/api.md lacks"
        assert set(documented[name]) - actual == set(), f"{name}: docs/api.md lists routes that do not exist"


def test_the_table_says_who_may_call_each_route_as_the_route_declares(apps):
    documented = _documented(apps)
    for name, app in apps.items():
        for route in document_routes(app):
            written = documented[name][(route.method, route.path)]
            assert same_access(written, route.who), (name, route.method, route.path, written, route.who)


def test_the_role_matrix_is_each_services_access_module():
    rows = {}
    for line in markdown_sections(API, 2)["Roles and who may do what"].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3:
            rows[cells[0]] = (cells[1], cells[2])
    for service, package in (("bank-sync", "bank_sync"), ("payments", "payments"), ("workflow", "workflow")):
        access = importlib.import_module(f"crm.{package}.access")
        read, write = rows[service]
        assert same_access(read, _roles(access.READ)), service
        assert same_access(write, _roles(access.WRITE)), service


def _roles(access: Access) -> str:
    return ", ".join(sorted(access.roles))


def test_the_error_codes_section_is_there():
    assert "Error codes" in markdown_sections(API, 2)


def _file_sections(markdown: str) -> dict[str, str]:
    """The text under each ``### `<file>` ...`` heading, by file name."""
    files = {}
    for title, text in {**markdown_sections(markdown, 2), **markdown_sections(markdown, 3)}.items():
        match = re.match(r"`([a-z_]+\.csv)`", title)
        if match:
            files[match.group(1)] = text
    return files


def _column_rows(text: str) -> dict[str, list[str]]:
    """The rows of a section's column table, by the column's name: [kind, required, notes]."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 4:
            rows[cells[0].strip("`")] = cells[1:]
    return rows


@pytest.mark.parametrize("spec", LOAD_ORDER, ids=lambda spec: spec.name)
def test_every_extract_file_and_column_is_in_extracts_md(spec: EntitySpec):
    section = _file_sections(EXTRACTS).get(spec.file_name)
    assert section is not None, f"docs/extracts.md has no section for {spec.file_name}"
    rows = _column_rows(section)
    assert list(rows) == [f.name for f in spec.fields], f"{spec.file_name}: the columns, in the spec's order"
    for field in spec.fields:
        kind, required, notes = rows[field.name]
        assert kind == field.kind, (spec.file_name, field.name)
        assert required == ("yes" if field.required else "no"), (spec.file_name, field.name)
        assert set(field.values) <= quoted(notes), (spec.file_name, field.name, "its values")


def test_the_payments_file_and_its_columns_are_in_extracts_md():
    rows = _column_rows(_file_sections(EXTRACTS)["payments.csv"])
    assert list(rows) == core_extract.COLUMNS
    for column, (_, required, _) in rows.items():
        assert required == ("yes" if column in core_extract.REQUIRED_COLUMNS else "no"), column
    assert {c.value for c in PaymentChannel} <= quoted(rows["paymentChannel"][2])
    assert {s.value for s in PaymentStatus} <= quoted(rows["status"][2])


def test_the_inbox_layout_names_every_file():
    layout = markdown_sections(EXTRACTS, 2)["The inbox"]
    for name in [spec.file_name for spec in LOAD_ORDER] + ["payments.csv", "manifest.json"]:
        assert name in layout, name


SCHEMAS = ("identity", "bank_sync", "payments", "workflow", "web")


def _metadata(schema: str) -> MetaData:
    """The schema's metadata with every model module of the service imported."""
    package = importlib.import_module(f"crm.{schema}")
    for module in pkgutil.walk_packages(package.__path__, f"crm.{schema}."):
        if module.name.rsplit(".", 1)[-1] == "models":
            importlib.import_module(module.name)
    metadata: MetaData = importlib.import_module(f"crm.{schema}.models").Base.metadata
    return metadata


def _schema_section(schema: str) -> str:
    sections = [
        text for title, text in markdown_sections(DATA_MODEL, 2).items() if f"(schema `{schema}`)" in title
    ]
    assert len(sections) == 1, f"docs/data-model.md: one section for schema {schema}"
    return sections[0]


def _table_sections(text: str) -> dict[str, str]:
    """Under each ``### `name` ...`` heading, by every table its title names."""
    tables = {}
    for title, body in markdown_sections(text, 3).items():
        for name in re.findall(r"`([a-z_]+)`", title.split(" — ")[0]):
            tables[name] = body
    return tables


def _documented_columns(body: str, table: str) -> set[str]:
    """The columns a table section names in the first cell of its rows (``a``, ``b`` in one cell
    are two); a shared table of several names them after the table's own name."""
    columns: set[str] = set()
    current = None
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or re.fullmatch(r"-+", cells[0]):
            continue
        if len(cells) == 4:  # | table | column | type | notes |
            current = cells[0].strip("`") or current
            if current != table:
                continue
            cells = cells[1:]
        columns |= quoted(cells[0])
    return columns


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_table_and_column_is_in_data_model_md(schema: str):
    metadata = _metadata(schema)
    platform: dict[str, Table] = {t.name: t for t in vars(metadata.info["platform"]).values()}
    shared = _table_sections(markdown_sections(DATA_MODEL, 2)["Tables in every schema"])
    section = _schema_section(schema)
    own = _table_sections(section)
    synchronized = _documented_columns(markdown_sections(section, 3).get("Synchronized fields", ""), "")
    for table in metadata.tables.values():
        body = shared.get(table.name) if table.name in platform else own.get(table.name)
        assert body is not None, f"docs/data-model.md has no section for {schema}.{table.name}"
        columns = _documented_columns(body, table.name)
        if synchronized and synchronized <= set(table.c.keys()):
            columns |= synchronized
        assert set(table.c.keys()) - columns == set(), (
            f"{schema}.{table.name}: columns docs/data-model.md lacks"
        )
        assert columns - set(table.c.keys()) == set(), f"{schema}.{table.name}: columns that do not exist"
    assert set(own) - {t.name for t in metadata.tables.values()} == set(), "tables that do not exist"


@pytest.mark.parametrize("model", [events.Event, events.SyncEvent, events.PaymentEvent, events.WorkflowEvent])
def test_every_event_field_and_type_is_in_data_model_md(model: type[events.Event]):
    sections = markdown_sections(markdown_sections(DATA_MODEL, 2)["Events"], 3)
    body = sections["Every event" if model is events.Event else model.__name__]
    fields = {f.alias or name for name, f in model.model_fields.items()}
    if model is not events.Event:
        fields -= {f.alias or name for name, f in events.Event.model_fields.items()} - {"type"}
    assert fields <= quoted(body), model.__name__
    literal = model.model_fields["type"].annotation
    assert set(getattr(literal, "__args__", ())) <= quoted(body), f"{model.__name__}: its types"
    for family in events.FAMILIES:
        assert f"crm.{family}." in DATA_MODEL


def test_the_documents_are_linked_from_the_readme():
    readme = (Path(DOCS).parent / "README.md").read_text(encoding="utf-8")
    for name in ("api.md", "data-model.md", "extracts.md"):
        assert f"(docs/{name})" in readme, name


def test_every_error_code_is_listed_with_what_it_says():
    expected = {code: code_row(code, text) for code, text in declared_codes().items()}
    assert code_rows(API) == expected
