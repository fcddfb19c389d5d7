"""Contract fuzzing: schemathesis generates requests from the served schema (valid and invalid
headers, paths and bodies) and sends them to `facegate serve`; two in three are signed with a real
app's key so the fuzzed bodies get past authentication to the face backend, the rest test the
refusals. Every reply must be a declared status with the declared content type and headers, match
the reply schema, and never be an HTTP 5xx or a 5000. Bounded: at most 120 cases per API, only the
first 60 once 10 s have passed; derandomized, so every run sends the same cases and a failure
reproduces."""
from __future__ import annotations

import json
import time

import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)

from facegate.apis import APIS, IMAGE_APIS
from facegate.client import MillisecondClock, signed_headers

pytestmark = pytest.mark.slow

CASES_PER_API = 120
BUDGET_PER_API_S = 10  # past this, cases beyond the first MIN_CASES_SENT are not sent
MIN_CASES_SENT = 60  # always sent: derandomized, the same cases every run, so the checks below are stable
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# Each image API, and the library operations that take a photo or change stored state.
TARGETS = [(name, spec.path) for name, spec in IMAGE_APIS.items()] + [
    ("library", f"{APIS['library'].path}/{op}") for op in ("user/add", "search", "group/delete")]
# How a generated case is sent: signed for this API (the body reaches the face backend), signed
# with the generated service code (4005), with the real AppKey only (4003/4004), or as generated.
MODES = ["signed", "signed", "signed", "signed, fuzzed service code", "real AppKey", "as generated"]


@pytest.fixture(scope="module")
def fuzz_schema(api_stack):
    return schemathesis.openapi.from_url(f"{api_stack.url}/api/schema/")


def _operations(schema) -> dict[str, object]:
    """Operations by the path after the service code."""
    return {result.ok().path.split("{service_code}/", 1)[1]: result.ok() for result in schema.get_all_operations()}


def _body(kwargs: dict) -> bytes:
    if "json" in kwargs:
        return json.dumps(kwargs.pop("json")).encode()
    data = kwargs.pop("data", b"")
    return data.encode() if isinstance(data, str) else (data or b"")


@pytest.mark.parametrize("api,api_path", TARGETS, ids=[path for _, path in TARGETS])
def test_fuzzed_requests_get_schema_conforming_replies(api_stack, fuzz_schema, api, api_path):
    operation = _operations(fuzz_schema)[api_path]
    app, clock = api_stack.app, MillisecondClock()
    session = requests.Session()
    codes: dict[str, int] = {}
    started = time.monotonic()
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=CASES_PER_API, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=cases, mode=st.sampled_from(MODES))
    def run(case, mode: str) -> None:
        if sum(codes.values()) >= MIN_CASES_SENT and time.monotonic() - started > BUDGET_PER_API_S:
            return
        if mode == "signed":
            case.path_parameters = {"service_code": app.service_codes[api]}
        kwargs = case.as_transport_kwargs(base_url=api_stack.url)
        body = _body(kwargs)
        if mode in ("signed", "signed, fuzzed service code"):
            path = requests.utils.urlparse(kwargs["url"]).path
            kwargs["headers"].update(signed_headers(app.app_key, app.app_secret, path, body, clock.next()))
        elif mode == "real AppKey":
            kwargs["headers"]["AppKey"] = app.app_key
        response = session.request(**kwargs, data=body, timeout=60)
        case.validate_response(response, checks=CHECKS)
        code = response.json()["code"]
        assert code != "5000", response.text
        codes[code] = codes.get(code, 0) + 1

    run()
    assert sum(codes.values()) >= MIN_CASES_SENT, codes
    # Each stage was exercised: authentication, the body checks, the image decoder.
    assert len({code for code in codes if code.startswith("400")}) >= 3, codes
    assert codes.keys() & {"4101", "4102"}, codes
    if api != "library":  # library operations may refuse a group or user before looking at a photo
        assert codes.keys() & {"0", "4103", "4104", "4105"}, codes  # some bodies reached the decoder
