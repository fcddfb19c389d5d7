"""The OpenAPI document: valid OpenAPI 3.1 as served, and complete against the code's definitions."""
from __future__ import annotations

import pytest
import requests
from openapi_spec_validator import validate

from facegate import errors
from facegate.apis import IMAGE_APIS, LIBRARY_OPS
from facegate.openapi import LANGUAGES, build_schema
from tests.api.schema_check import path_key

@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_served_schema_is_valid_openapi_3_1(api_stack, lang):
    response = requests.get(f"{api_stack.url}/api/schema/", params={"lang": lang}, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    validate(schema)  # raises on any violation of the OpenAPI 3.1 specification
    assert schema["servers"] == [{"url": api_stack.url}]
    assert schema == build_schema(lang, server_url=api_stack.url)


def test_every_api_and_error_code_is_described():
    for lang in LANGUAGES:
        schema = build_schema(lang)
        assert set(schema["paths"]) == ({path_key(api) for api in IMAGE_APIS}
                                        | {path_key("library", op) for op in LIBRARY_OPS})
        for api, spec in IMAGE_APIS.items():
            operation = schema["paths"][path_key(api)]["post"]
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            if api == "compare":  # one pair (images or stored face tokens), or a batch of pairs
                pair, batch = body["oneOf"]
                assert set(spec.image_fields) <= set(pair["properties"]) and batch["required"] == ["pairs"]
            else:
                assert body["required"] == list(spec.image_fields)
        for operation in (path["post"] for path in schema["paths"].values()):
            assert {p["$ref"].rsplit("/", 1)[1] for p in operation["parameters"]} == {
                "ServiceCode", "AppKey", "Timestamp", "Sign"}
        codes = {c["const"]: c for c in schema["components"]["schemas"]["ErrorCode"]["oneOf"]}
        assert set(codes) == set(errors.MESSAGES)
        for code, item in codes.items():
            assert item["x-charged"] == (code in errors.CHARGEABLE_CODES)
            assert item["description"], code
            assert f"| {code} |" in schema["info"]["description"]


def test_descriptions_follow_the_language():
    en, zh = build_schema("en"), build_schema("zh-hans")
    assert "lowercase hex MD5" in en["info"]["description"]
    assert "小写十六进制" in zh["info"]["description"]
    assert en["paths"].keys() == zh["paths"].keys()
    with pytest.raises(ValueError):
        build_schema("fr")


@pytest.mark.slow
def test_unknown_lang_falls_back_and_zh_prefix_is_chinese(api_stack):
    fr = requests.get(f"{api_stack.url}/api/schema/", params={"lang": "fr"}, timeout=30).json()
    zh = requests.get(f"{api_stack.url}/api/schema/", params={"lang": "zh-CN"}, timeout=30).json()
    assert fr["info"]["title"] == build_schema("en")["info"]["title"]
    assert zh["info"]["title"] == build_schema("zh-hans")["info"]["title"]


@pytest.mark.django_db
def test_reference_page_is_public_and_in_the_console_navigation(client, django_user_model):
    page = client.get("/console/reference/")
    assert page.status_code == 200 and b'data-spec="/api/schema/?lang=en"' in page.content
    assert b"vendor/redoc/redoc.standalone.js" in page.content
    user = django_user_model.objects.create_user("ref@example.com", "ref@example.com", "pw-123456")
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/console/"})
    home = client.get("/console/apps/").content.decode()
    assert 'href="/console/reference/"' in home and "接口文档" in home
    assert b'data-spec="/api/schema/?lang=zh-hans"' in client.get("/console/reference/").content
