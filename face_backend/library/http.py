"""The library's HTTP route on the face backend: POST /v1/library/{op}.

The gateway calls it with the backend token (X-Facegate-Token, checked like every backend route)
and the calling application's id in X-Facegate-App, which only the gateway may set: the backend
is never exposed to clients. Replies are wire replies with HTTP 200, like the other APIs; a
missing or malformed X-Facegate-App answers HTTP 400 (a gateway bug, not a client error).
"""
from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from typing import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from facegate import errors
from facegate.errors import WireError
from face_backend import config
from face_backend.wire_input import read_body
from face_backend.library.service import get_library
from face_backend.library.store import APP_PATTERN
from face_backend.vision.engine import get_engine

APP_HEADER = "x-facegate-app"


def endpoint(authorised: Callable[[Request], bool], pool: Executor) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The Starlette endpoint, sharing the server's token check and inference pool."""
    async def library(request: Request) -> JSONResponse:
        request_id = request.state.request_id

        def reply(body: dict, status: int = 200) -> JSONResponse:
            return JSONResponse(body, status_code=status, headers={"X-Request-Id": request_id})

        if not authorised(request):
            return reply({"detail": "forbidden"}, 403)
        app_id = request.headers.get(APP_HEADER, "")
        if not APP_PATTERN.match(app_id):
            return reply(errors.error(errors.BAD_BODY, "missing or invalid X-Facegate-App header"), 400)
        try:
            body = await read_body(request, config.get().max_body_bytes)
        except WireError as exc:
            return reply(exc.reply())
        op = request.path_params["op"]

        def run() -> dict:
            return get_library(get_engine(), config.get().data_dir).handle(app_id, op, body, request_id)

        return reply(await asyncio.get_running_loop().run_in_executor(pool, run))

    return library
