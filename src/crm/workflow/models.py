"""The workflow schema's declarative base (its own tables only) and its platform tables."""

from sqlalchemy.orm import DeclarativeBase

from crm.platform.db import TYPE_ANNOTATION_MAP, service_metadata
from crm.platform.tables import define_platform_tables


class Base(DeclarativeBase):
    metadata = service_metadata("workflow")
    type_annotation_map = TYPE_ANNOTATION_MAP


platform_tables = define_platform_tables(Base.metadata)
