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


def spark_udf(
    spark: Any,
    model_uri: str | os.PathLike[str],
    result_type: Any = None,
    env_manager: str | None = None,
    params: dict[str, Any] | None = None,
    store: Any = None,
) -> Any:
    """A Spark UDF scoring with a logged model, as ``mlflow.pyfunc.spark_udf``::

        predict = runsite.pyfunc.spark_udf(spark, "models:/taxi/production")
        df.withColumn("prediction", predict(struct("zone", "distance")))

    The model's hashes are checked on the driver (files in object storage fetched and
    checked), one verified copy is shipped to the executors, and each Python worker
    loads it once, checking the folder hash again before unpickling. Call the UDF with
    columns (matched to the signature's inputs by position), a ``struct`` (its field
    names), or nothing (the signature's column names). ``result_type``: a Spark type or
    DDL string (default ``double``): int, long, float, double, boolean, string or an
    array of one. The model runs in the executors' own Python (``env_manager="local"``).
    Needs ``pip install 'runsite[spark]'``."""
    from pathlib import Path

    from runsite.errors import InvalidInput
    from runsite.models import spark as _spark
    from runsite.models.api import resolve

    if env_manager not in (None, "local"):
        raise InvalidInput(
            f"spark_udf: env_manager={env_manager!r} is not supported; runsite scores in the "
            "executors' own Python environment (env_manager='local')"
        )
    if params:
        raise InvalidInput("spark_udf: runsite models take no inference params")
    text = os.fspath(model_uri)
    expected = None
    if text.startswith("models:/"):
        from runsite.registry import resolve_model_version

        folder, version = resolve_model_version(text, store)
        expected = version.hash
    else:
        folder = resolve(text, store)
    root = Path(store) if store is not None else None
    return _spark.udf(spark, folder, expected, root, result_type)


__all__ = ["Model", "load_model", "scoring_app", "spark_udf"]
