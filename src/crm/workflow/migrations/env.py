# The model modules are imported for their side effect: their tables join Base.metadata.
import crm.workflow.agents.models
import crm.workflow.cases.models  # noqa: F401
from crm.platform.migrations import run_env
from crm.workflow.models import Base

run_env(Base.metadata)
