"""Validating wire replies against the OpenAPI document with jsonschema (draft 2020-12, as OpenAPI 3.1)."""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from facegate.apis import APIS, GATEWAY_PREFIX, LIBRARY_OPS

BASE = "urn:facegate:openapi"


def path_key(api: str, op: str = "") -> str:
    return f"{GATEWAY_PREFIX}{{service_code}}/{APIS[api].path}" + (f"/{op}" if op else "")


def reply_validators(schema: dict[str, Any]) -> dict[str, Draft202012Validator]:
    """A validator of the HTTP 200 JSON reply per API name (and "library/<op>" per library operation);
    "#/components/..." refs resolve in `schema`."""
    registry = Registry().with_resource(BASE, Resource.from_contents(schema, default_specification=DRAFT202012))
    targets = {api: path_key(api) for api in APIS if api != "library"}
    targets.update({f"library/{op}": path_key("library", op) for op in LIBRARY_OPS})
    out = {}
    for name, key in targets.items():
        pointer = "/paths/" + key.replace("~", "~0").replace("/", "~1") + \
                  "/post/responses/200/content/application~1json/schema"
        out[name] = Draft202012Validator({"$ref": f"{BASE}#{pointer}"}, registry=registry)
    return out


def assert_matches(validator: Draft202012Validator, reply: Any, where: str) -> None:
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in validator.iter_errors(reply)]
    assert not problems, f"{where}: reply does not match the schema: {problems}\n{str(reply)[:500]}"
