"""The five face APIs of the compatible wire protocol: names, vendor paths, body fields."""
from __future__ import annotations

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
    )
}
API_NAMES: tuple[str, ...] = tuple(APIS)
API_BY_PATH: dict[str, ApiSpec] = {spec.path: spec for spec in APIS.values()}
API_CHOICES: list[tuple[str, str]] = [(spec.name, spec.title_en) for spec in APIS.values()]
GATEWAY_PREFIX = "/v1/aiop/api/"


def public_path(service_code: str, api: str) -> str:
    """The URL path a client signs and posts to for this service code and API."""
    return f"{GATEWAY_PREFIX}{service_code}/{APIS[api].path}"


def parse_public_path(path: str) -> tuple[str, ApiSpec | None]:
    """(service code, API) of a request path as sent; the API is None for any other path.

    Only the canonical form names an API: a path differing in case, slashes or percent-encoding
    gets 4005 (after the signature check) rather than a guess at what the client meant.
    """
    if not path.startswith(GATEWAY_PREFIX):
        return "", None
    service_code, _, api_path = path[len(GATEWAY_PREFIX):].partition("/")
    return service_code, API_BY_PATH.get(api_path)


def backend_path(api: str) -> str:
    """The face backend's internal route for an API."""
    return f"/v1/{api}"
