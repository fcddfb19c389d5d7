"""The face backend's internal HTTP service (Starlette on uvicorn).

POST /v1/{api}  body: the client's raw JSON  ->  the wire reply, HTTP 200, X-Request-Id echoed.
GET  /health    ->  {"status", "pack", "models": [{name, file, license, loaded}]}.
Every route needs header X-Facegate-Token equal to the backend token (face_backend.config: env
FACEGATE_BACKEND_TOKEN, else the data dir's backend_token file) unless that token is empty; otherwise HTTP 403.
Inference runs in a bounded thread pool so the event loop keeps accepting and rejecting requests.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from facegate import errors
from facegate.errors import WireError
from facegate.apis import IMAGE_APIS
from facegate.request_ids import client_request_id, new_request_id
from face_backend import config
from face_backend.api import handle
from face_backend.wire_input import read_body
from face_backend.library import http as library_http
from face_backend.vision.engine import get_engine

log = logging.getLogger("face_backend.server")

TOKEN_HEADER = "x-facegate-token"


class RequestIdMiddleware:
    """Adds X-Request-Id to every response, including Starlette's own 404/405 (pure ASGI)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        # The gateway sends its own id (facegate.request_ids); anything else gets a fresh one.
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = client_request_id(incoming) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id  # the endpoints log and reply with it

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                if b"x-request-id" not in names:
                    message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(token: str | None = None, warm_up: bool = True, threads: int | None = None) -> Starlette:
    settings = config.get()
    expected = settings.token if token is None else token
    # Bodies beyond this cannot hold a 2 MB image even as base64 with newlines: stop reading, 4103.
    max_body = settings.max_body_bytes
    pool = ThreadPoolExecutor(max_workers=threads or settings.threads, thread_name_prefix="face-infer")

    def reply(body: dict, request_id: str, status: int = 200) -> JSONResponse:
        return JSONResponse(body, status_code=status, headers={"X-Request-Id": request_id})

    def authorised(request: Request) -> bool:
        return not expected or hmac.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(), expected.encode())

    async def call_api(request: Request) -> JSONResponse:
        request_id = request.state.request_id
        if not authorised(request):
            return reply({"detail": "forbidden"}, request_id, 403)
        api = request.path_params["api"]
        if api not in IMAGE_APIS:
            return reply(errors.error(errors.BAD_BODY, f"unknown API {api!r}"), request_id, 404)
        try:
            body = await read_body(request, max_body)
        except WireError as exc:
            return reply(exc.reply(), request_id)
        loop = asyncio.get_running_loop()
        app_id = request.headers.get(library_http.APP_HEADER, "")  # set by the gateway: face tokens are per app
        result = await loop.run_in_executor(pool, partial(handle, api, body, request_id, app_id=app_id))
        return reply(result, request_id)

    async def health(request: Request) -> JSONResponse:
        request_id = request.state.request_id
        if not authorised(request):
            return reply({"detail": "forbidden"}, request_id, 403)
        return reply(get_engine().health(), request_id)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if warm_up:
            await asyncio.get_running_loop().run_in_executor(pool, get_engine().warm_up)
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = Starlette(
        routes=[Route("/v1/{api}", call_api, methods=["POST"]), Route("/health", health, methods=["GET"]),
                Route("/v1/library/{op:path}", library_http.endpoint(authorised, pool), methods=["POST"])],
        lifespan=lifespan,
    )
    app.add_middleware(RequestIdMiddleware)
    return app


def app_factory() -> Starlette:
    """uvicorn --factory entry point (one per worker process)."""
    return create_app()


def main(argv: list[str] | None = None) -> int:
    settings = config.get()  # also creates the token file before workers race to do it
    parser = argparse.ArgumentParser(prog="facegate backend", description="run the face backend HTTP service")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (each loads the models once)")
    args = parser.parse_args(argv)
    import uvicorn

    logging.basicConfig(level=logging.INFO)
    uvicorn.run("face_backend.server:app_factory", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="info", access_log=False)
    return 0
