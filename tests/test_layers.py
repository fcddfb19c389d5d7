"""The import layers of docs/ARCHITECTURE.md, checked on the source: a module imports only from its
own layer or the layers below it (function-level imports count too), and the face backend never
imports Django or the gateway's rooms."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Lowest first. A module belongs to the first entry whose prefix matches its dotted name.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("shared", ("facegate.apis", "facegate.errors", "facegate.config", "facegate.request_ids", "facegate.celery",
                "facegate.signing", "facegate.client", "facegate.openapi", "facegate.metering",
                "facegate.operating_points")),
    ("audit", ("audit",)),
    ("tenants", ("gateway.models", "gateway.secrets_box", "gateway.services", "gateway.admin", "gateway.apps", "gateway.migrations", "gateway.__init__")),
    ("billing", ("billing",)),
    ("monitoring", ("monitoring",)),
    ("pipeline", ("gateway",)),
    ("console", ("apps_console", "facegate")),
]
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}
ROOMS = ("facegate", "audit", "gateway", "billing", "monitoring", "apps_console")


def layer_of(module: str) -> str | None:
    for name, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    return None


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from pkg import module` imports the module, not the package
                submodule = f"{node.module}.{alias.name}"
                is_module = (REPO / submodule.replace(".", "/")).with_suffix(".py").exists()
                found.append(submodule if is_module else node.module)
    return found


def _sources(*roots: str) -> list[Path]:
    return [p for root in roots for p in (REPO / root).rglob("*.py")]


def test_rooms_import_only_downwards():
    upward = []
    for path in _sources(*ROOMS):
        mine = layer_of(module_name(path))
        for target in imports(path):
            theirs = layer_of(target)
            if mine and theirs and RANK[theirs] > RANK[mine]:
                upward.append(f"{module_name(path)} ({mine}) imports {target} ({theirs})")
    assert not upward, "\n".join(sorted(set(upward)))


def test_face_backend_knows_no_django_and_no_gateway():
    forbidden = ("django", "rest_framework", "celery", "gateway", "billing", "monitoring", "apps_console")
    bad = [f"{module_name(p)} imports {t}" for p in _sources("face_backend") for t in imports(p)
           if t.split(".")[0] in forbidden]
    assert not bad, "\n".join(bad)


def test_vision_knows_no_wire_format():
    # face_backend/vision is pure image work: codes, vendor strings and HTTP live in face_backend.api.
    bad = [f"{module_name(p)} imports {t}" for p in _sources("face_backend/vision") for t in imports(p)
           if t.split(".")[0] in ("facegate", "starlette", "uvicorn") or t.startswith("face_backend.api")]
    assert not bad, "\n".join(bad)


def test_the_layer_table_is_not_empty():
    # Guards the checks above against a REPO path that finds no files.
    assert len(_sources(*ROOMS)) > 40 and layer_of("gateway.pipeline") == "pipeline"
