from crm.bank_sync.app import spec
from crm.platform.migrations import run_env

run_env(spec().metadata)  # spec() imports every model of the service, so all its tables are known
