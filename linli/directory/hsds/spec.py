"""The HSDS 3.0 specification files Linli ships, and the OpenAPI document it serves.

Upstream's openapi.json refers to the schemas by absolute raw.githubusercontent
URLs; the served copy points them at `/hsds/schema/…`, so a client (and Linli
itself) needs no internet access to read the API's definition.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
HSDS_VERSION = "3.0"
UPSTREAM_SCHEMA_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
# Linli publishes plain HSDS 3.0, no profile of its own: the profile is the specification.
DEFAULT_PROFILE = "https://github.com/openreferral/specification/tree/3.0"

# A schema file name as served: `taxonomy.json` or `compiled/service.json`.
SCHEMA_NAME = re.compile(r"^(compiled/)?[a-z_]+\.json$")


def schema_path(name: str) -> Path | None:
    """The shipped file behind `/hsds/schema/<name>`, or None if there is none."""
    if not SCHEMA_NAME.match(name) or name == "openapi.json":
        return None
    path = SCHEMA_DIR / name
    return path if path.is_file() else None


@cache
def _upstream_openapi() -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / "openapi.json").read_text(encoding="utf-8"))


def _rewrite_refs(node: Any, schema_base: str) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                schema_base + value.removeprefix(UPSTREAM_SCHEMA_URL)
                if key == "$ref"
                and isinstance(value, str)
                and value.startswith(UPSTREAM_SCHEMA_URL)
                else _rewrite_refs(value, schema_base)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, schema_base) for item in node]
    return node


def openapi_document(*, api_base: str, schema_base: str) -> dict[str, Any]:
    """HSDS's openapi.json describing this server: local schema URLs, Linli's title.

    `api_base` is the absolute URL of `/hsds/`, `schema_base` that of `/hsds/schema/`.
    """
    document = _rewrite_refs(copy.deepcopy(_upstream_openapi()), schema_base)
    document["info"] = {
        "title": _("Linli service directory (HSDS 3.0)"),
        "version": HSDS_VERSION,
        "summary": _("The public service directory of Linli, in Open Referral's HSDS 3.0."),
        "description": _(
            "Read-only. Data are published under the terms of the operator of this "
            "server; the specification is HSDS 3.0, an Open Referral resource "
            "(https://openreferral.org/), under CC BY-SA 4.0."
        ),
        "license": {
            "name": "CC BY-SA 4.0 (HSDS specification)",
            "url": "https://creativecommons.org/licenses/by-sa/4.0/",
        },
    }
    document["servers"] = [{"url": api_base.rstrip("/")}]
    # Upstream points this path at the service schema by mistake.
    single = document["paths"]["/service_at_locations/{id}"]["get"]["responses"]["200"]
    single["content"]["application/json"]["schema"]["$ref"] = (
        schema_base + "compiled/service_at_location.json"
    )
    return document
