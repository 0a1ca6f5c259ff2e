"""What the flavors' autologgers share: params as MLflow strings them, data inputs,
the fitted model with its signature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runsite import validate
from runsite.autologging import INPUT_EXAMPLE_ROWS, Session, warn
from runsite.run import Run


def str_params(params: Mapping[str, Any]) -> dict[str, str]:
    """MLflow logs ``str(value)``, cut to the param length limit."""
    limit = validate.MAX_PARAM_VALUE_LENGTH
    return {str(k): str(v)[:limit] for k, v in params.items()}


def log_data(
    run: Run, features: Any, targets: Any = None, name: str = "dataset", context: str = "train"
) -> dict[str, Any]:
    """Hash in-memory data and record it as an input of ``run``."""
    from runsite.inputs import describe_data

    info = describe_data(features, targets, name, context)
    run._log_input_info(info)
    return info


def head(data: Any, rows: int = INPUT_EXAMPLE_ROWS) -> Any:
    if hasattr(data, "iloc"):
        return data.iloc[:rows].copy()
    if hasattr(data, "tocsr"):
        return data.tocsr()[:rows].toarray()
    import copy

    return copy.deepcopy(data[:rows])


def log_fitted_model(s: Session, model: Any, x: Any, name: str, flavor: str) -> None:
    """Log ``model`` as ``name``; signature from a few training rows (and the rows
    themselves as the input example with ``log_input_examples``)."""
    from runsite.models.api import log_model

    cfg = s.config
    example = signature = None
    if x is not None and (cfg.log_input_examples or cfg.log_model_signatures):
        try:
            example = head(x)
            if cfg.log_model_signatures:
                from runsite.models.signature import infer_signature

                predict = getattr(model, "predict", None) or model.transform
                signature = infer_signature(example, predict(head(x)))
        except Exception as exc:
            warn(cfg, "could not infer the model signature", exc)
    log_model(
        s.run,
        model,
        name,
        flavor=flavor,
        input_example=example if cfg.log_input_examples else None,
        signature=signature,
        registered_model_name=cfg.registered_model_name if name == "model" else None,
    )
