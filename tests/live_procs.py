"""Constants of the live tests (the process helpers are facegate.procs)."""
BACKEND_TOKEN = "test-backend-token"  # the token test backends are started with
