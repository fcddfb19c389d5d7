"""The OpenAPI 3.1 description of the public API, built from the definitions the code runs on.

Paths and body fields come from `facegate.apis.APIS`, error codes and what is charged from
`facegate.errors`; only prose and the result shapes (written by `face_backend/api.py`) are stated
here. Django-free, so the schema can be built and checked without a running site. Two languages:
English and Simplified Chinese (`lang="zh-hans"`), the same schema with translated descriptions.
"""
from __future__ import annotations

from functools import partial
from typing import Any

from facegate import errors
from facegate.apis import (
    APIS, GATEWAY_PREFIX, ID_PATTERN_TEXT, IMAGE_APIS, LIBRARY, LIBRARY_OPS, MAX_BATCH_ITEMS, MAX_COMPARE_PAIRS,
    MAX_USER_INFO,
    ApiSpec,
)
from facegate.operating_points import OPERATING_POINT_NAMES

OPENAPI_VERSION = "3.1.0"
LANGUAGES = ("en", "zh-hans")
SAME_PERSON_THRESHOLD = 0.5

# Longer meanings than the wire messages of facegate.errors.MESSAGES, in both languages.
ERROR_MEANINGS: dict[str, tuple[str, str]] = {
    errors.MISSING_HEADERS: ("AppKey, Timestamp or Sign header missing or empty, or Timestamp not digits",
                             "缺少 AppKey、Timestamp 或 Sign 请求头，或其为空，或 Timestamp 不是数字"),
    errors.UNKNOWN_APP: ("unknown AppKey, or the application is disabled", "AppKey 不存在，或应用已停用"),
    errors.BAD_SIGN: ("the Sign does not match", "签名 Sign 不正确"),
    errors.STALE_OR_REPLAYED: ("Timestamp not 13 digits or outside ±5 minutes of the server clock, or the same "
                               "Sign was already used within that window (replay)",
                               "Timestamp 不是 13 位毫秒时间戳或与服务器时间相差超过 5 分钟，或相同的 Sign 在该时间窗内"
                               "已被使用（重放）"),
    errors.WRONG_SERVICE_CODE: ("the service code is not this application's code for this API, or the path is not "
                                "an API", "服务编码不属于该应用的该接口，或路径不是接口路径"),
    errors.IMAGE_MISSING: ("image field missing, null or empty", "图片参数缺失、为 null 或为空"),
    errors.BAD_BODY: ("body is not a JSON object, or a field is not a string", "请求体不是 JSON 对象，或参数不是字符串"),
    errors.IMAGE_TOO_LARGE: ("image over 2 MB (2,097,152 decoded bytes), or request body over the server's limit "
                             "(8 MB by default; that one is not charged)",
                             "图片超过 2 MB（解码后 2,097,152 字节），或请求体超过服务器上限（默认 8 MB，此情况不计费）"),
    errors.IMAGE_UNDECODABLE: ("not decodable as an image (jpg, png, bmp, webp, tiff and gif are read)",
                               "无法解码为图片（支持 jpg、png、bmp、webp、tiff、gif）"),
    errors.NO_FACE: ("no face found (compare: the details say which image)", "未检测到人脸（比对接口会说明是哪张图片）"),
    errors.NO_QUOTA: ("no valid quota left for this API", "该接口没有可用的调用额度"),
    errors.RATE_LIMITED: ("over the application's requests-per-second limit", "超过应用的每秒请求数上限"),
    errors.INTERNAL: ("internal error; details carry the request id that the server logs carry",
                      "内部错误；details 中的请求 ID 与服务器日志一致"),
}

_SIGN_EN = """\
Every call carries three headers:

| header | value |
|---|---|
| `AppKey` | the application's AppKey |
| `Timestamp` | the current time in milliseconds since 1970-01-01 UTC, 13 digits; the server accepts ±5 minutes |
| `Sign` | lowercase hex MD5 of the UTF-8 bytes of `AppKey + AppSecret + Timestamp + path` followed by the raw body bytes |

`path` is the URL path exactly as sent, e.g. `/v1/aiop/api/{service_code}/face/PERSON/person/detectFaceFromBase64`
(no scheme, host or query). The body is hashed as the exact bytes sent, so sign the serialised JSON you post.
A Sign is accepted once: a request repeated with the same Sign within the window is refused as a replay
(4004), so two calls need two timestamps.

```python
sign = hashlib.md5((app_key + app_secret + timestamp + path).encode() + body).hexdigest()
```

Every reply is HTTP 200 with a JSON body: `{"code": "0", "message": "success", "result": ...}` or
`{"code": "<error code>", "message": "error", "details": "..."}`, and an `X-Request-Id` header.
A call is charged when it succeeds or fails for the image's own reason (4103, 4104, 4105).
"""

_SIGN_ZH = """\
每次调用携带三个请求头：

| 请求头 | 取值 |
|---|---|
| `AppKey` | 应用的 AppKey |
| `Timestamp` | 当前时间，自 1970-01-01 UTC 起的毫秒数，13 位；服务器允许 ±5 分钟误差 |
| `Sign` | 对 `AppKey + AppSecret + Timestamp + path` 的 UTF-8 字节再接上原始请求体字节计算 MD5，取小写十六进制 |

`path` 为实际发送的 URL 路径，例如 `/v1/aiop/api/{service_code}/face/PERSON/person/detectFaceFromBase64`
（不含协议、主机和查询串）。请求体按发送的原始字节计算，因此请对实际发送的 JSON 文本签名。
每个 Sign 只能使用一次：时间窗内以相同 Sign 重复的请求视为重放（4004），两次调用需要两个时间戳。

```python
sign = hashlib.md5((app_key + app_secret + timestamp + path).encode() + body).hexdigest()
```

所有响应均为 HTTP 200，JSON 响应体为 `{"code": "0", "message": "success", "result": ...}` 或
`{"code": "<错误码>", "message": "error", "details": "..."}`，并带有 `X-Request-Id` 响应头。
调用成功或因图片本身原因失败（4103、4104、4105）时计费。
"""


def _text(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh-hans" else en


def _location_schema(lang: str) -> dict[str, Any]:
    integer = {"type": "integer"}
    return {
        "type": "object",
        "description": _text(lang, "Face box in integer pixels of the original image.", "人脸框，原图整数像素坐标。"),
        "required": ["top", "left", "width", "height"],
        "properties": {"top": integer, "left": integer, "width": integer, "height": integer},
        "additionalProperties": False,
    }


def _face_schema(lang: str) -> dict[str, Any]:
    t = partial(_text, lang)
    integer = {"type": "integer"}
    return {
        "type": "object",
        "required": ["face_location", "score", "landmarks"],
        "properties": {
            "face_location": _location_schema(lang),
            "score": {"type": "number", "minimum": 0, "maximum": 1,
                      "description": t("Detection confidence.", "检测置信度。")},
            "landmarks": {
                "type": "array", "minItems": 5, "maxItems": 5,
                "description": t("Five points [x, y]: the two eyes, the nose tip, the two mouth corners.",
                                 "五个关键点 [x, y]：两眼、鼻尖、两侧嘴角。"),
                "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": integer},
            },
        },
    }


def _result_schema(api: str, lang: str) -> dict[str, Any]:
    """The `result` of a successful reply, as face_backend/api.py writes it."""
    t = partial(_text, lang)
    if api == "compare":
        score = {"type": "number", "minimum": 0, "maximum": 1,
                 "description": t(f"Similarity of the two subjects; >= {SAME_PERSON_THRESHOLD} means the same person.",
                                  f"两个主体人脸的相似度；>= {SAME_PERSON_THRESHOLD} 表示同一人。")}
        box = {"oneOf": [_location_schema(lang), {"type": "null"}]}
        located = {"type": "object", "required": ["score", "face_location1", "face_location2"],
                   "additionalProperties": False,
                   "description": t('With "face_fields": "location": the similarity and the box of the face '
                                    "compared in each photo (its subject); null for a face_token side.",
                                    '请求含 "face_fields": "location" 时：相似度，以及每张照片中参与比对的人脸'
                                    "（主体人脸）的位置；face_token 一侧为 null。"),
                   "properties": {"score": score, "face_location1": box, "face_location2": box}}
        score = {"oneOf": [score, located]}
        item = {"oneOf": [{"type": "object", "required": ["code", "message", "result"], "additionalProperties": False,
                           "properties": {"code": {"const": errors.SUCCESS}, "message": {"const": "success"},
                                          "result": score}},
                          {"$ref": "#/components/schemas/ErrorReply"}]}
        return {"oneOf": [score, {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_COMPARE_PAIRS,
                                  "description": t("Batch compare: one reply per pair, in order.",
                                                   "批量比对：每对一个结果，顺序与请求一致。")}]}
    face = _face_schema(lang)
    extra: dict[str, dict[str, Any]] = {
        "detect": {},
        "attributes": {
            "gender": {"type": "string", "enum": ["Male", "Female"]},
            "age": {"type": "string", "pattern": "^[0-9]+$", "description": t("Age in years.", "年龄（岁）。")},
        },
        "liveness": {
            "FaceAntiSpoofing": {"type": "string", "enum": ["活体人脸", "非活体人脸", "人脸清晰度较差，无法判断"],
                                 "description": t("Live face / not a live face / face too small or blurred "
                                                  "to judge.", "活体人脸 / 非活体人脸 / 人脸清晰度较差，无法判断。")},
            "liveness_score": {"type": "number", "minimum": 0, "maximum": 1,
                               "description": t("Probability that the face is live. FaceAntiSpoofing says live at or above "
                                                "the server's threshold: 0.5 unless its operator set "
                                                "FACEGATE_LIVENESS_THRESHOLD.",
                                                "活体概率。不低于服务端阈值时 FaceAntiSpoofing 判为活体；阈值默认 0.5，"
                                                "运维可用 FACEGATE_LIVENESS_THRESHOLD 调整。")},
        },
        "mask": {
            "mask": {"type": "string", "enum": ["wearing", "not_wearing", "incorrect"],
                     "description": t("Mask worn covering nose and mouth / no mask / mask worn with the nose "
                                      "or the mouth uncovered.",
                                      "正确佩戴口罩（遮住口鼻）/ 未佩戴口罩 / 口罩佩戴不正确（露出鼻子或嘴）。")},
            "mask_score": {"type": "number", "minimum": 0, "maximum": 1,
                           "description": t("Probability that a mask is worn, correctly or not (whatever the label).",
                                            "佩戴口罩（无论是否正确）的概率（与标签无关）。")},
        },
    }[api]
    face["properties"].update(extra)
    face["required"] = face["required"] + list(extra)
    face["additionalProperties"] = False
    return {
        "type": "object",
        "required": ["face_num", "face_list"],
        "additionalProperties": False,
        "properties": {
            "face_num": {"type": "integer", "minimum": 1},
            "face_list": {"type": "array", "minItems": 1, "items": face,
                          "description": t("Faces sorted by area, largest first.", "按面积从大到小排序的人脸。")},
        },
    }


def _meaning(code: str, lang: str) -> str:
    return _text(lang, *ERROR_MEANINGS.get(code, (errors.MESSAGES[code],) * 2))


def _error_codes(lang: str) -> list[dict[str, Any]]:
    out = []
    for code in sorted(errors.MESSAGES):
        charged = code in errors.CHARGEABLE_CODES
        note = _text(lang, " — charged" if charged else " — not charged", "（计费）" if charged else "（不计费）")
        out.append({"const": code, "title": code, "description": _meaning(code, lang) + note, "x-charged": charged})
    return out


def _error_table(lang: str) -> str:
    rows = [_text(lang, "| code | meaning | charged |", "| 错误码 | 含义 | 计费 |"), "|---|---|---|"]
    for code in sorted(errors.MESSAGES):
        charged = code in errors.CHARGEABLE_CODES
        rows.append(f"| {code} | {_meaning(code, lang)} | "
                    f"{_text(lang, 'yes' if charged else 'no', '是' if charged else '否')} |")
    return "\n".join(rows)


def _components(lang: str) -> dict[str, Any]:
    t = partial(_text, lang)

    def header(name: str, schema: dict[str, Any], en: str, zh: str) -> dict[str, Any]:
        return {"name": name, "in": "header", "required": True, "schema": schema, "description": t(en, zh)}

    return {
        "parameters": {
            "ServiceCode": {"name": "service_code", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9A-Za-z_-]+$"},
                            "description": t("The application's service code for this API (console: app page).",
                                             "该应用在此接口下的服务编码（控制台应用页面可见）。")},
            "AppKey": header("AppKey", {"type": "string"}, "The application's AppKey.", "应用的 AppKey。"),
            "Timestamp": header("Timestamp", {"type": "string", "pattern": "^[0-9]{13}$"},
                                "Milliseconds since the epoch, 13 digits, within ±5 minutes of the server clock.",
                                "毫秒时间戳，13 位，与服务器时间相差不超过 ±5 分钟。"),
            "Sign": header("Sign", {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                           "md5(AppKey + AppSecret + Timestamp + path + raw body), lowercase hex.",
                           "md5(AppKey + AppSecret + Timestamp + path + 原始请求体)，小写十六进制。"),
        },
        "schemas": {
            "ErrorCode": {"type": "string", "oneOf": _error_codes(lang)},
            "ErrorReply": {
                "type": "object", "required": ["code", "message", "details"], "additionalProperties": False,
                "properties": {
                    "code": {"$ref": "#/components/schemas/ErrorCode"},
                    "message": {"const": "error"},
                    "details": {"type": "string", "description": t("What went wrong, in words.", "错误详情。")},
                },
            },
            "ImageBase64": {
                "type": "string", "minLength": 1, "contentEncoding": "base64",
                "description": t("The image file (jpg, png, bmp, webp, tiff, gif) in base64; newlines, the URL-safe "
                                 "alphabet, missing padding and a `data:image/...;base64,` prefix are accepted. "
                                 "At most 2 MB (2,097,152 bytes) decoded.",
                                 "图片文件（jpg、png、bmp、webp、tiff、gif）的 base64 编码；可含换行、URL 安全字符、"
                                 "省略填充或 `data:image/...;base64,` 前缀。解码后不超过 2 MB（2,097,152 字节）。"),
            },
        },
        "headers": {
            "X-Request-Id": {"schema": {"type": "string"},
                             "description": t("Id of this request, also in the server logs.", "请求 ID，与服务器日志一致。")},
        },
    }


def _request_schema(spec: ApiSpec) -> dict[str, Any]:
    image = {"$ref": "#/components/schemas/ImageBase64"}
    fields = spec.image_fields
    if spec.name != "compare":
        return {"type": "object", "required": list(fields), "properties": {field: image for field in fields}}
    token = {"type": "string", "minLength": 1}
    pair = {"type": "object", "properties": {fields[0]: image, fields[1]: image,
                                             "face_token1": token, "face_token2": token,
                                             "face_fields": {"type": "string", "enum": ["location"]}}}
    return {"oneOf": [pair, {"type": "object", "required": ["pairs"], "properties": {
        "pairs": {"type": "array", "minItems": 1, "maxItems": MAX_COMPARE_PAIRS, "items": pair}}}]}


def _success(result: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["code", "message", "result"], "additionalProperties": False,
            "properties": {"code": {"const": errors.SUCCESS}, "message": {"const": "success"}, "result": result}}


def _post(operation_id: str, summary: str, description: str, tag: str, request: dict[str, Any],
          result: dict[str, Any], lang: str) -> dict[str, Any]:
    t = partial(_text, lang)
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": [tag],
        "parameters": [{"$ref": f"#/components/parameters/{name}"}
                       for name in ("ServiceCode", "AppKey", "Timestamp", "Sign")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
        "responses": {
            "200": {
                "description": t("The wire reply: success with this API's result, or an error code.",
                                 "响应：成功时带本接口的 result，失败时带错误码。"),
                "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
                "content": {"application/json": {"schema": {
                    "oneOf": [_success(result), {"$ref": "#/components/schemas/ErrorReply"}]}}},
            },
        },
    }


def _library_operations(lang: str) -> dict[str, dict[str, Any]]:
    """One path per face library operation (facegate.apis.LIBRARY_OPS)."""
    t = partial(_text, lang)
    ident = {"type": "string", "pattern": ID_PATTERN_TEXT}
    image = {"$ref": "#/components/schemas/ImageBase64"}
    location = {"type": "object", "properties": {k: {"type": "integer"} for k in ("top", "left", "width", "height")}}
    user = {"type": "object", "properties": {"group_id": ident, "user_id": ident, "user_info": {"type": "string"},
                                             "score": {"type": "number", "minimum": 0, "maximum": 1}}}
    hits = {"type": "array", "items": user, "description": t(
        "Users whose similarity reaches the app's operating point, best first; empty means unknown.",
        "相似度达到应用工作点的用户，按相似度从高到低；为空表示未知人员。")}
    add = {"type": "object", "required": ["group_id", "user_id", "imageContent"],
           "properties": {"group_id": ident, "user_id": ident, "user_info": {"type": "string", "maxLength": MAX_USER_INFO},
                          "imageContent": image}}
    search = {"type": "object", "required": ["imageContent", "group_id_list"], "properties": {
        "imageContent": image, "group_id_list": {"type": "string", "description": t(
            "Comma-separated group ids.", "以逗号分隔的用户组 ID。")},
        "max_user_num": {"type": "integer", "minimum": 1}, "max_face_num": {"type": "integer", "minimum": 1}}}
    obj = lambda **props: {"type": "object", "properties": props}  # noqa: E731
    point = {"type": "string", "enum": list(OPERATING_POINT_NAMES)}
    ops: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]] = {
        "group/add": ("Create a group", "创建用户组", obj(group_id=ident) | {"required": ["group_id"]},
                      obj(group_id=ident)),
        "group/delete": ("Delete a group and its faces", "删除用户组及其人脸",
                         obj(group_id=ident) | {"required": ["group_id"]}, obj(group_id=ident, face_num={"type": "integer"})),
        "group/list": ("List groups", "列出用户组", obj(start={"type": "integer", "minimum": 0},
                                                       length={"type": "integer", "minimum": 1}),
                       obj(group_id_list={"type": "array", "items": ident})),
        "group/getusers": ("List a group's users", "列出用户组中的用户",
                           obj(group_id=ident, start={"type": "integer", "minimum": 0},
                               length={"type": "integer", "minimum": 1}) | {"required": ["group_id"]},
                           obj(user_id_list={"type": "array", "items": ident})),
        "user/add": ("Enrol a face (the largest in the photo)", "注册人脸（照片中最大的人脸）", add,
                     obj(face_token={"type": "string"}, face_location=location)),
        "user/batch_add": ("Enrol up to 100 faces", "批量注册人脸（最多 100 个）",
                           obj(items={"type": "array", "minItems": 1, "maxItems": MAX_BATCH_ITEMS, "items": add})
                           | {"required": ["items"]},
                           obj(items={"type": "array", "items": {"type": "object", "required": ["code"]}})),
        "user/get": ("A user's faces", "查询用户的人脸",
                     obj(group_id=ident, user_id=ident) | {"required": ["group_id", "user_id"]},
                     obj(group_id=ident, user_id=ident, user_info={"type": ["string", "null"]},
                         face_list={"type": "array"})),
        "user/delete": ("Delete a user and its faces", "删除用户及其人脸",
                        obj(group_id=ident, user_id=ident) | {"required": ["group_id", "user_id"]},
                        obj(group_id=ident, user_id=ident, face_num={"type": "integer"})),
        "face/delete": ("Delete one face", "删除一张人脸", obj(face_token={"type": "string"}) | {"required": ["face_token"]},
                        obj(face_token={"type": "string"})),
        "search": ("1:N search: who is this?", "1:N 搜索：这是谁？", search,
                   obj(face_token={"type": "string"}, face_location=location, user_list=hits)),
        "multi_search": ("1:N search for every face in a photo", "为照片中每张人脸做 1:N 搜索", search,
                         obj(face_num={"type": "integer"}, face_list={"type": "array", "items": obj(
                             face_token={"type": "string"}, face_location=location, user_list=hits)})),
        "app/settings": ("The app's library settings: read, or change the operating point and photo keeping",
                         "应用的人脸库设置：查询，或修改工作点与是否保存照片",
                         obj(operating_point=point | {"description": t(
                             "The false accept rate of a search's decision; below it search answers unknown. "
                             "face_limit is set by the operator only (4102 here).",
                             "搜索判定的误识率；低于该点时搜索答为未知。face_limit 只能由运营方设置（此处为 4102）。")},
                             store_photos={"type": "boolean"},
                             older_faces={"type": "boolean", "description": t(
                                 "Also count the faces embedded by an older model version (older_face_num).",
                                 "同时统计由旧版模型提取特征的人脸（older_face_num）。")}),
                         obj(operating_point=point, face_limit={"type": "integer"}, store_photos={"type": "boolean"},
                             threshold_cosine={"type": "number"}, threshold_score={"type": "number"},
                             face_num={"type": "integer"},
                             older_face_num={"type": "integer", "description": t(
                                 "With older_faces: faces embedded by an older model version (before an "
                                 "upgrade); they still match, a little less exactly.",
                                 "请求 older_faces 时：由旧版模型提取特征的人脸（升级之前录入）；仍可匹配，但精度略低。")},
                             older_face_num_with_photo={"type": "integer", "description": t(
                                 "Of those, the faces whose photo is kept: the operator's `facegate library "
                                 "reembed` brings them up to date; the others need enrolling again.",
                                 "其中保存了照片的人脸：运营方运行 `facegate library reembed` 即可更新；其余需重新录入。")})),
    }
    out = {}
    for op, (en, zh, request, result) in ops.items():
        cost = LIBRARY_OPS[op]
        metered = (t("one call per item", "每个条目计一次") if cost == "items"
                   else t("one call", "计一次") if cost else t("free", "免费"))
        out[f"{GATEWAY_PREFIX}{{service_code}}/{APIS[LIBRARY].path}/{op}"] = {"post": _post(
            "library_" + op.replace("/", "_"), t(en, zh), t(f"Metered: {metered}.", f"计量：{metered}。"),
            LIBRARY, request, result, lang)}
    return out


def _operation(spec: ApiSpec, lang: str) -> dict[str, Any]:
    t = partial(_text, lang)
    metered = t("one call per pair of images (a batch: one per pair)", "每对图片计一次（批量：每对计一次）") \
        if spec.name == "compare" else t("one call per image", "每张图片计一次")
    return _post(spec.name, t(spec.title_en, spec.title_zh), t(f"Metered as {metered}.", f"计量：{metered}。"),
                 spec.name, _request_schema(spec), _result_schema(spec.name, lang), lang)


def build_schema(lang: str = "en", server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document in `lang` ("en" or "zh-hans"); `server_url` is where the site runs."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; one of {LANGUAGES}")
    t = partial(_text, lang)
    schema: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": t("facegate face API", "facegate 人脸识别接口"),
            "version": "1",
            "description": t(_SIGN_EN, _SIGN_ZH) + "\n" + t("## Error codes", "## 错误码") + "\n\n" + _error_table(lang),
        },
        "tags": [{"name": spec.name, "x-displayName": t(spec.title_en, spec.title_zh)} for spec in APIS.values()],
        "paths": {**{f"{GATEWAY_PREFIX}{{service_code}}/{spec.path}": {"post": _operation(spec, lang)}
                     for spec in IMAGE_APIS.values()}, **_library_operations(lang)},
        "components": _components(lang),
    }
    if server_url:
        schema["servers"] = [{"url": server_url}]
    return schema
