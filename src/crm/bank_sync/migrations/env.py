from crm.bank_sync.models import Base
from crm.platform.migrations import run_env

run_env(Base.metadata)
