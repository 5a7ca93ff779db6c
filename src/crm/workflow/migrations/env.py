from crm.platform.migrations import run_env
from crm.workflow.models import Base

run_env(Base.metadata)
