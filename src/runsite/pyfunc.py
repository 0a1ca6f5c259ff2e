"""``runsite.pyfunc``: the generic model interface (MLflow's ``mlflow.pyfunc``), with
MLflow's custom models (``PythonModel``, ``log_model(python_model=..., artifacts=...)``)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from runsite.errors import InvalidInput
from runsite.models.api import Model
from runsite.models.pythonmodel import PythonModel, PythonModelContext

PyFuncModel = Model  # MLflow's name for what pyfunc.load_model returns


def log_model(
    name: str | None = None,
    python_model: Any = None,
    artifacts: Mapping[str, Any] | None = None,
    signature: dict[str, Any] | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    pip_requirements: Sequence[str] | str | None = None,
    *,
    artifact_path: str | None = None,
    **kwargs: Any,
) -> Any:
    """Log a custom model into the active run (MLflow's ``mlflow.pyfunc.log_model``)::

        runsite.pyfunc.log_model(name="model", python_model=AddN(2),
                                 artifacts={"table": "data/table.csv"})
        runsite.pyfunc.load_model("runs:/<run-id>/model").predict(df)

    ``python_model`` is a ``PythonModel`` (``load_context(context)``,
    ``predict(context, model_input, params=None)``); ``artifacts`` maps names to local
    files or folders, copied into the model and given back as ``context.artifacts``.
    The object is pickled (cloudpickle when installed, as MLflow does) and scanned when
    loaded: a class from an importable module loads as is, one defined in ``__main__``
    needs ``trust=True`` (docs/security.md). ``artifact_path=`` is MLflow 2's ``name``."""
    from runsite import _flavor_api

    if python_model is None:
        raise InvalidInput(
            "runsite.pyfunc.log_model needs python_model= (a runsite.pyfunc.PythonModel); "
            "loader_module= and models-from-code paths are not supported"
        )
    unsupported = sorted(k for k in kwargs if kwargs[k] is not None)
    if unsupported:
        raise InvalidInput(f"runsite.pyfunc.log_model: {', '.join(unsupported)} not supported")
    if isinstance(python_model, str | os.PathLike):
        raise InvalidInput(
            "python_model as a file path (MLflow's models from code) is not supported; "
            "pass the PythonModel object"
        )
    model_name = artifact_path or name
    if not model_name:
        raise InvalidInput("runsite.pyfunc.log_model needs name= (or artifact_path=)")
    return _flavor_api.log_model(
        "python_model",
        python_model,
        model_name,
        artifacts=artifacts,
        signature=signature,
        input_example=input_example,
        registered_model_name=registered_model_name,
        pip_requirements=pip_requirements,
    )


def save_model(
    path: str | os.PathLike[str],
    python_model: Any = None,
    artifacts: Mapping[str, Any] | None = None,
    signature: dict[str, Any] | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
) -> None:
    """A custom model as a folder at ``path``, outside any run (MLflow's
    ``mlflow.pyfunc.save_model``); ``load_model(path)`` loads it."""
    from runsite import _flavor_api

    if python_model is None:
        raise InvalidInput("runsite.pyfunc.save_model needs python_model=")
    _flavor_api.save_model(
        "python_model",
        python_model,
        path,
        artifacts=artifacts,
        signature=signature,
        input_example=input_example,
        requirements=pip_requirements,
    )


def load_model(model_uri: str | os.PathLike[str], store: Any = None, trust: bool = False) -> Model:
    """Load any logged model as a ``Model`` with ``.predict()`` applying its preprocessor
    (a python_model's ``load_context`` is called first); ``trust=True`` loads a pickle
    the scan refuses (docs/security.md)."""
    from runsite.models.api import load_model as _load

    return _load(model_uri, store, trust=trust)


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


__all__ = [
    "Model",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "log_model",
    "save_model",
    "scoring_app",
    "spark_udf",
]
