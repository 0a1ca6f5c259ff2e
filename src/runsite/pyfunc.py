"""``runsite.pyfunc``: the generic model interface (MLflow's ``mlflow.pyfunc``)."""

from __future__ import annotations

import os
from typing import Any

from runsite.models.api import Model


def load_model(model_uri: str | os.PathLike[str], store: Any = None) -> Model:
    """Load any logged model as a ``Model`` with ``.predict()`` applying its preprocessor."""
    from runsite.models.api import load_model as _load

    return _load(model_uri, store)


def scoring_app(
    model_uri: str | os.PathLike[str], store: Any = None, *, max_body: int | None = None
) -> Any:
    """An ASGI app serving the model with MLflow's scoring protocol (``/invocations``,
    ``/ping``, ``/version``), to mount in your own server; see docs/deploy.md."""
    from runsite.serving.app import DEFAULT_MAX_BODY
    from runsite.serving.app import scoring_app as _app

    return _app(model_uri, store, max_body=max_body or DEFAULT_MAX_BODY)


__all__ = ["Model", "load_model", "scoring_app"]
