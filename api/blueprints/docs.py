"""The API docs page's own assets: Swagger UI from the ``swagger-ui-bundle`` package, served by
the API itself, so ``/api/v1/docs`` works on a machine with no internet (and in clusters whose
egress is closed)."""

from __future__ import annotations

from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

#: where the docs page (flask-smorest's Swagger UI page) loads its scripts and styles from
ASSETS_URL = "/api/v1/docs/assets/"

blp = Blueprint("docs_assets", __name__, url_prefix=ASSETS_URL.rstrip("/"))


@blp.get("/<path:filename>")
def asset(filename: str):
    """One file of the packaged Swagger UI (404 for any other name)."""
    # The files change only with the package's version: let browsers keep them a day.
    return send_from_directory(swagger_ui_path, filename, max_age=86_400)
