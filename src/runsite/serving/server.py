"""``runsite models serve``: the scoring app under uvicorn (the one module that imports
it), one process or ``--workers N``."""

from __future__ import annotations

import os
from typing import Any

from runsite.errors import InvalidInput, RunsiteError
from runsite.serving import app as scoring

EXTRA_HINT = "pip install 'runsite[serve]'"


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError:
        raise RunsiteError(f"serving needs uvicorn: {EXTRA_HINT}") from None
    return uvicorn


def serve(
    model_uri: str,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
    store: str | os.PathLike[str] | None = None,
    max_body: int = scoring.DEFAULT_MAX_BODY,
    ready: Any = None,
    trust: bool = False,
) -> None:
    """Serve ``model_uri`` until SIGTERM / Ctrl-C (uvicorn finishes the requests in flight
    and exits). The model is loaded — hashes verified — before the port opens, so a bad
    URI or a tampered model fails here with a clear message, not in the first request.

    ``ready(app)``, when given, is called with the loaded app before serving starts.
    ``trust`` skips the static pickle scan (``--trust-pickle``: a model you trust)."""
    uvicorn = _uvicorn()
    if workers < 1:
        raise InvalidInput(f"--workers must be at least 1, got {workers}")
    if not 0 <= port <= 65535:
        raise InvalidInput(f"--port must be between 0 and 65535, got {port}")
    if max_body < 1:
        raise InvalidInput("the request size limit must be positive")
    app = scoring.scoring_app(model_uri, store, max_body=max_body, trust=trust)
    if ready is not None:
        ready(app)
    scoring.configure_logging()
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,  # one line per request comes from the app, with its timing
        "log_level": "info",
        "timeout_graceful_shutdown": 30,
        "server_header": False,
    }
    if workers == 1:
        uvicorn.Server(uvicorn.Config(app, **options)).run()
        return
    # Worker processes each load the model themselves (verified again) from these.
    os.environ[scoring.ENV_URI] = model_uri
    os.environ[scoring.ENV_MAX_BODY] = str(max_body)
    os.environ[scoring.ENV_TRUST] = "1" if trust else ""
    if store is not None:
        os.environ[scoring.ENV_STORE] = os.fspath(store)
    uvicorn.run("runsite.serving.app:app_from_env_logged", factory=True, workers=workers, **options)
