from crm.platform.migrations import run_env
from crm.web.app import spec

run_env(spec().metadata)  # spec() imports every model of the service, so all its tables are known
