"""The face APIs of the compatible wire protocol: names, vendor paths, body fields, library operations."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ApiSpec:
    name: str  # our short name, used for service codes, packs and the backend route
    path: str  # the vendor path after /v1/aiop/api/{service_code}/
    image_fields: tuple[str, ...]  # base64 image fields of the JSON body
    title_en: str
    title_zh: str


APIS: dict[str, ApiSpec] = {
    spec.name: spec
    for spec in (
        ApiSpec("detect", "face/PERSON/person/detectFaceFromBase64", ("imageContent",),
                "Face detection", "人脸检测"),
        ApiSpec("attributes", "face/PERSON/person/detectAgeGenderFromBase64", ("imageContent",),
                "Age and gender", "年龄性别识别"),
        ApiSpec("compare", "face/compare/PERSON/person/compareFromBase64", ("img1Base64", "img2Base64"),
                "Face compare (1:1)", "人脸比对"),
        ApiSpec("liveness", "face-fas-action/person/detectFasFromBase64", ("imageContent",),
                "Silent liveness", "静默活体检测"),
        ApiSpec("mask", "face-mask/person/detectMaskFromBase64", ("imageContent",),
                "Mask detection", "口罩检测"),
        # The face library: one service code for all its operations, named after the path prefix.
        ApiSpec("library", "face/library", (), "Face library (1:N search)", "人脸库（1:N 搜索）"),
    )
}
LIBRARY = "library"
# Library operations and what each costs in calls: a number, or "items" (one per batch item).
# Only operations that look at a photo are metered; managing groups, users and settings is free.
LIBRARY_OPS: dict[str, int | str] = {
    "group/add": 0, "group/delete": 0, "group/list": 0, "group/getusers": 0,
    "user/add": 1, "user/batch_add": "items", "user/get": 0, "user/delete": 0, "face/delete": 0,
    "search": 1, "multi_search": 1, "app/settings": 0,
}
# Library settings only the operator sets (`facegate admin library-settings`): a signed
# `app/settings` naming one is refused (4102). The app's own storage limit is the operator's to grant.
OPERATOR_LIBRARY_SETTINGS = ("face_limit",)
# Library identifiers and limits of the protocol (the backend enforces them; the schema and the console
# state them). group_id / user_id: letters, digits, underscore.
ID_PATTERN_TEXT = r"^[A-Za-z0-9_]{1,128}$"
ID_PATTERN = re.compile(ID_PATTERN_TEXT)
MAX_USER_INFO = 256  # characters
MAX_GROUPS_PER_SEARCH = 10
# Batch sizes of the protocol: pairs of one batch compare, items of one batch enrolment.
MAX_COMPARE_PAIRS = 32
MAX_BATCH_ITEMS = 100
API_NAMES: tuple[str, ...] = tuple(APIS)
# The APIs that run the face engine on the images of one call (all but the library).
IMAGE_APIS: dict[str, ApiSpec] = {name: spec for name, spec in APIS.items() if spec.image_fields}
API_BY_PATH: dict[str, ApiSpec] = {spec.path: spec for spec in APIS.values() if spec.name != "library"}
API_CHOICES: list[tuple[str, str]] = [(spec.name, spec.title_en) for spec in APIS.values()]
GATEWAY_PREFIX = "/v1/aiop/api/"


def public_path(service_code: str, api: str, op: str = "") -> str:
    """The URL path a client signs and posts to for this service code and API (and library operation)."""
    return f"{GATEWAY_PREFIX}{service_code}/{APIS[api].path}" + (f"/{op}" if op else "")


@dataclass(frozen=True)
class Route:
    """What a request path names: the service code, the API and (for the library) the operation."""

    service_code: str
    api: ApiSpec | None
    op: str = ""


def parse_public_path(path: str) -> Route:
    """The route of a request path as sent; `api` is None for any path that names no API.

    Only the canonical form names an API: a path differing in case, slashes or percent-encoding
    gets 4005 (after the signature check) rather than a guess at what the client meant.
    """
    if not path.startswith(GATEWAY_PREFIX):
        return Route("", None)
    service_code, _, api_path = path[len(GATEWAY_PREFIX):].partition("/")
    library_prefix = APIS[LIBRARY].path + "/"
    if api_path.startswith(library_prefix):
        op = api_path[len(library_prefix):]
        return Route(service_code, APIS[LIBRARY], op) if op in LIBRARY_OPS else Route(service_code, None)
    return Route(service_code, API_BY_PATH.get(api_path))


def backend_path(api: str, op: str = "") -> str:
    """The face backend's internal route for an API (and a library operation)."""
    return f"/v1/{api}/{op}" if op else f"/v1/{api}"
