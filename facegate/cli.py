"""The `facegate` command line: serve the stack, administer apps and packs, run the engine locally."""
from __future__ import annotations

import sys

from facegate.apis import IMAGE_APIS

USAGE = """usage: facegate COMMAND [ARGS]

  serve      start the whole stack in the foreground (gateway, face backend, Celery worker)
  gateway    start only the gateway (Django on waitress, several processes)
  backend    start only the face backend HTTP service
  admin      accounts, apps, packs and usage (facegate admin --help)
  models     list, fetch and verify model files (facegate models --help)
  library reembed [--app APP_ID] [--pack PACK] [--threads N] [--check]
             embed the face library's kept photos again after a model change (on the backend's host)
  detect IMAGE | attributes IMAGE | liveness IMAGE | mask IMAGE | compare IMAGE1 IMAGE2
             run the face engine locally and print the API's JSON result
  detect IMAGE --url URL [--app-key K --service-code C] ...
             call a running facegate instead (signed by the SDK; secret from $FACEGATE_APP_SECRET)
"""


def print_models_in_use() -> None:
    """Every model the engine runs for the configured pack (the package-shipped ones included), as
    the backend's /health reports them; the manifest's files follow."""
    from face_backend.vision.engine import FaceEngine
    health = FaceEngine().health()
    print(f"in use (pack {health['pack']}: {health['pack_notice']}):")
    rows = [(m["name"], m["license"], m["file"]) for m in health["models"]]
    width = max(len(row[0]) for row in rows)
    for name, license_, file in rows:
        print(f"  {name:<{width}}  {file}  [{license_}]")
    print("\nmodel files of the manifest:")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = args[0], args[1:]
    from facegate.config import private_umask
    private_umask()
    if command in IMAGE_APIS and any(arg == "--url" or arg.startswith("--url=") for arg in rest):
        from facegate.remote_cli import main as remote_main
        return remote_main(command, rest)
    if command in IMAGE_APIS:
        from face_backend.cli import main as engine_main
        return engine_main([command, *rest])
    if command == "models":
        from face_backend.model_store import cli_main as models_main
        if rest[:1] == ["list"]:
            print_models_in_use()
        return models_main(rest)
    if command == "library":
        if rest[:1] != ["reembed"]:
            print("usage: facegate library reembed [--app APP_ID] [--pack PACK] [--threads N] [--check]", file=sys.stderr)
            return 2
        from face_backend.library.reembed import main as reembed_main
        return reembed_main(rest[1:])
    if command == "backend":
        from face_backend.server import main as backend_main
        return backend_main(rest)
    if command == "gateway":
        from facegate.gateway_server import main as gateway_main
        return gateway_main(rest)
    if command == "serve":
        from facegate.serve import main as serve_main
        return serve_main(rest)
    if command == "admin":
        from facegate.admin_cli import main as admin_main
        return admin_main(rest)
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
