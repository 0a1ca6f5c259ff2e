"""The scoring server as a plain ASGI application (no framework: the protocol is four
routes, and every layer between the socket and ``predict`` costs latency).

Routes (MLflow's scoring protocol, so existing clients keep working):

- ``POST /invocations`` — JSON (``dataframe_split``, ``dataframe_records``, ``instances``,
  ``inputs``) or CSV in, ``{"predictions": [...]}`` out; schema errors and bad payloads are
  a 4xx with ``{"error_code", "message"}`` and never take the server down;
- ``GET /ping`` and ``GET /health`` — 200 once the model is loaded;
- ``GET /version`` — JSON: model name, version, stage, hash, flavor, runsite version.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from runsite.errors import RunsiteError
from runsite.models.api import Model
from runsite.serving import protocol

log = logging.getLogger("runsite.serve")

DEFAULT_MAX_BODY = 8 * 1024 * 1024  # bytes; `--max-request-mb` changes it

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass
class ModelInfo:
    """What ``GET /version`` reports about the served model."""

    uri: str
    name: str | None = None
    version: int | None = None
    stage: str | None = None
    aliases: list[str] = field(default_factory=list)
    hash: str | None = None
    flavor: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_uri": self.uri,
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "aliases": self.aliases,
            "hash": self.hash,
            "flavor": self.flavor,
            "runsite_version": _runsite_version(),
        }


def _runsite_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("runsite")
    except metadata.PackageNotFoundError:
        return "unknown"


def _signature_columns(model: Model) -> dict[str, str]:
    inputs = (model.signature or {}).get("inputs") or {}
    if inputs.get("type") != "columns":
        return {}
    return {str(c["name"]): str(c.get("type")) for c in inputs.get("columns", []) if "name" in c}


class ScoringApp:
    """An ASGI callable serving one loaded model. Build it with :func:`scoring_app`."""

    def __init__(self, model: Model, info: ModelInfo, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.model = model
        self.info = info
        self.max_body = max_body
        self._columns = _signature_columns(model)
        self._version = json.dumps(info.to_dict()).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":  # websockets: not part of the protocol
            return
        start = time.perf_counter()
        method, path = scope["method"], scope["path"]
        status, rows = await self._route(scope, receive, send, method, path)
        log.info(
            "%s %s %d %s %.2f ms",
            method,
            path,
            status,
            f"{rows} rows" if rows is not None else "-",
            (time.perf_counter() - start) * 1000,
        )

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, method: str, path: str
    ) -> tuple[int, int | None]:
        if path == "/invocations":
            if method != "POST":
                return await self._error(send, 405, "METHOD_NOT_ALLOWED", "use POST"), None
            return await self._invocations(scope, receive, send)
        if path in ("/ping", "/health"):
            if method not in ("GET", "HEAD"):
                return await self._error(send, 405, "METHOD_NOT_ALLOWED", "use GET"), None
            return await _respond(send, 200, b"\n", b"text/plain"), None
        if path == "/version":
            return await _respond(send, 200, self._version, b"application/json"), None
        message = f"no route {path!r}: use POST /invocations, GET /ping or GET /version"
        return await self._error(send, 404, "ENDPOINT_NOT_FOUND", message), None

    async def _invocations(
        self, scope: Scope, receive: Receive, send: Send
    ) -> tuple[int, int | None]:
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return await self._too_large(send), None
        body = await self._body(receive)
        if body is None:
            return await self._too_large(send), None
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        try:
            data, params = protocol.parse_request(body, content_type, self._columns)
        except protocol.PayloadError as exc:
            return await self._error(send, exc.status, exc.code, exc.message), None
        rows = protocol.rows_of(data)
        if not rows:
            message = "the request has no rows to score"
            return await self._error(send, 400, "MALFORMED_REQUEST", message), 0
        try:
            predictions = self.model.predict(data, params=params)
        except RunsiteError as exc:  # the signature check: names the column and the type
            return await self._error(send, 400, "INVALID_PARAMETER_VALUE", str(exc)), rows
        except Exception as exc:  # the model itself refused the input (NaN, shapes …)
            message = f"the model could not score this input: {type(exc).__name__}: {exc}"
            return await self._error(send, 400, "BAD_REQUEST", message), rows
        return await _respond(send, 200, protocol.predictions_json(predictions)), rows

    async def _body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _too_large(self, send: Send) -> int:
        limit = self.max_body / (1024 * 1024)
        message = f"the request body is larger than the server's limit of {limit:g} MiB"
        return await self._error(send, 413, "REQUEST_TOO_LARGE", message)

    async def _error(self, send: Send, status: int, code: str, message: str) -> int:
        return await _respond(send, status, protocol.error_json(code, message))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _respond(
    send: Send, status: int, body: bytes, content_type: bytes = b"application/json"
) -> int:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return status


def scoring_app(
    model_uri: str | os.PathLike[str],
    store: str | os.PathLike[str] | None = None,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    trust: bool = False,
) -> ScoringApp:
    """An ASGI application scoring the model at ``model_uri`` with MLflow's protocol.

    The model is loaded once, here, with every file hash verified before anything is
    unpickled, and every pickle scanned for imports its flavor does not need
    (``UnsafePickle``) unless ``trust=True``. Mount it in any ASGI server or framework::

        app = runsite.pyfunc.scoring_app("models:/taxi/production")
        # uvicorn module:app, or Starlette's Mount("/taxi", app)
    """
    from runsite.models.api import load_model

    uri = os.fspath(model_uri)
    model = load_model(uri, store, trust=trust)
    info = ModelInfo(uri=uri, hash=_folder_hash(model), flavor=model.flavor.name)
    if uri.startswith("models:/"):
        from runsite.registry import Registry

        mv = Registry(store).resolve(uri[len("models:/") :].strip("/"))
        info.name, info.version, info.stage = mv.name, mv.version, mv.stage
        info.aliases = list(mv.aliases)
    elif os.environ.get(ENV_NAME):  # a container from `runsite models dockerfile`
        info.name = os.environ[ENV_NAME]
        number = os.environ.get(ENV_VERSION, "")
        info.version = int(number) if number.isdigit() else None
        info.stage = os.environ.get(ENV_STAGE) or None
    return ScoringApp(model, info, max_body=max_body)


def _folder_hash(model: Model) -> str | None:
    from runsite.models.manifest import model_hash

    try:
        return model_hash(model.path)
    except (OSError, RunsiteError):
        return None


ENV_URI = "RUNSITE_SERVE_MODEL_URI"
ENV_NAME = "RUNSITE_MODEL_NAME"  # set in the image by `runsite models dockerfile`
ENV_VERSION = "RUNSITE_MODEL_VERSION"
ENV_STAGE = "RUNSITE_MODEL_STAGE"
ENV_STORE = "RUNSITE_SERVE_STORE"
ENV_MAX_BODY = "RUNSITE_SERVE_MAX_BODY"
ENV_TRUST = "RUNSITE_SERVE_TRUST_PICKLE"


def app_from_env() -> ScoringApp:
    """The app factory worker processes call (``--workers N``): the model URI, store and
    body limit come from the environment the parent set."""
    uri = os.environ[ENV_URI]
    return scoring_app(
        uri,
        os.environ.get(ENV_STORE) or None,
        max_body=int(os.environ.get(ENV_MAX_BODY) or DEFAULT_MAX_BODY),
        trust=os.environ.get(ENV_TRUST) == "1",
    )


def configure_logging() -> None:
    """One line per request on stderr (``runsite.serve``), not passed to the root logger."""
    logger = logging.getLogger("runsite.serve")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def app_from_env_logged() -> ScoringApp:
    """:func:`app_from_env` with the request log switched on (uvicorn's worker
    processes start without the parent's logging set-up)."""
    configure_logging()
    return app_from_env()
