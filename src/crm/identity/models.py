"""The identity schema's metadata (its own tables only)."""

from crm.platform.db import make_base
from crm.platform.tables import define_platform_tables

Base = make_base("identity")
platform_tables = define_platform_tables(Base.metadata)
