"""Deploying a registered model: MLflow's scoring protocol over HTTP
(``runsite models serve``), its container recipe (``runsite models dockerfile``) and the
ASGI app to embed (:func:`scoring_app`). See docs/deploy.md."""

from __future__ import annotations

from runsite.serving.app import DEFAULT_MAX_BODY, ScoringApp, scoring_app

__all__ = ["DEFAULT_MAX_BODY", "ScoringApp", "scoring_app"]
