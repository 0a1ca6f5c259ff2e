"""``runsite.tracking``: where MLflow scripts import ``MlflowClient`` from."""

from __future__ import annotations

from runsite.client import MlflowClient
from runsite.fluent import get_tracking_uri, set_tracking_uri

__all__ = ["MlflowClient", "get_tracking_uri", "set_tracking_uri"]
