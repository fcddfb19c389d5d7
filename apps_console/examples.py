"""Ready-to-run client examples for one app and API: the request URL, a curl script, the vendor's
Python sample, signed per the wire protocol (Sign = md5(AppKey+AppSecret+Timestamp+path+body)), and
the same call through the Python SDK (facegate.client).

The AppSecret is never stored in plain text, so the examples carry a placeholder the user fills in."""
from __future__ import annotations

from dataclasses import dataclass

from facegate.apis import IMAGE_APIS, public_path

SECRET_PLACEHOLDER = "<your AppSecret>"


@dataclass(frozen=True)
class ApiExample:
    api: str
    title: str
    service_code: str
    url: str
    curl: str
    python: str
    sdk: str


def _curl(app_key: str, base_url: str, path: str, fields: tuple[str, ...]) -> str:
    # The body goes through a file: a base64 photo is larger than one shell argument may be.
    if len(fields) == 1:
        body = f"printf '{{\"{fields[0]}\": \"%s\"}}' \"$(base64 -w0 photo.jpg)\" > body.json"
    else:
        body = (f"printf '{{\"{fields[0]}\": \"%s\", \"{fields[1]}\": \"%s\"}}' "
                "\"$(base64 -w0 photo1.jpg)\" \"$(base64 -w0 photo2.jpg)\" > body.json")
    return "\n".join([
        f"APP_KEY='{app_key}'",
        f"APP_SECRET='{SECRET_PLACEHOLDER}'",
        f"URL_PATH='{path}'",
        body,
        "TS=$(date +%s%3N)",
        "SIGN=$( { printf '%s' \"$APP_KEY$APP_SECRET$TS$URL_PATH\"; cat body.json; } | md5sum | cut -d' ' -f1)",
        f"curl -s -X POST \"{base_url}$URL_PATH\" \\",
        "  -H 'Content-Type: application/json' \\",
        "  -H \"AppKey: $APP_KEY\" -H \"Timestamp: $TS\" -H \"Sign: $SIGN\" \\",
        "  --data-binary @body.json",
    ])


def _python(app_key: str, base_url: str, path: str, fields: tuple[str, ...]) -> str:
    if len(fields) == 1:
        params = f'params = {{"{fields[0]}": base64.encodebytes(open("photo.jpg", "rb").read()).decode()}}'
    else:
        params = (f'params = {{"{fields[0]}": base64.encodebytes(open("photo1.jpg", "rb").read()).decode(),\n'
                  f'          "{fields[1]}": base64.encodebytes(open("photo2.jpg", "rb").read()).decode()}}')
    return "\n".join([
        "import base64, hashlib, json, time",
        "",
        "import requests",
        "",
        f'app_key = "{app_key}"',
        f'app_secret = "{SECRET_PLACEHOLDER}"  # APP_SECRET: shown once, at creation or rotation',
        f'request_url = "{base_url}{path}"',
        "",
        "",
        'def md5(s): return hashlib.md5(s.encode("utf-8")).hexdigest()',
        "",
        "",
        params,
        "ts = str(int(round(time.time() * 1000)))",
        'headers = {"content-type": "application/json", "Timestamp": ts, "AppKey": app_key,',
        f'           "Sign": md5(app_key + app_secret + ts + "{path}" + json.dumps(params))}}',
        "print(requests.post(request_url, data=json.dumps(params), headers=headers).json())",
    ])


def _sdk(app_key: str, base_url: str, api: str, service_code: str, fields: tuple[str, ...]) -> str:
    photos = ", ".join(f'"photo{i + 1}.jpg"' for i in range(len(fields))) if len(fields) > 1 else '"photo.jpg"'
    return "\n".join([
        "from facegate.client import Client  # the SDK of the facegate package; needs only requests",
        "",
        f'client = Client("{base_url}", "{app_key}", "{SECRET_PLACEHOLDER}", {{"{api}": "{service_code}"}})',
        f"print(client.{api}({photos}))",
    ])


def examples_for(app_key: str, service_codes: dict[str, str], base_url: str, lang_zh: bool = False) -> list[ApiExample]:
    """One example set per API, in the order of facegate.apis.IMAGE_APIS; base_url is scheme://host."""
    out = []
    for name, spec in IMAGE_APIS.items():
        code = service_codes.get(name)
        if not code:
            continue
        path = public_path(code, name)
        out.append(ApiExample(
            api=name,
            title=spec.title_zh if lang_zh else spec.title_en,
            service_code=code,
            url=base_url + path,
            curl=_curl(app_key, base_url, path, spec.image_fields),
            python=_python(app_key, base_url, path, spec.image_fields),
            sdk=_sdk(app_key, base_url, name, code, spec.image_fields),
        ))
    return out
