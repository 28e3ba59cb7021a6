"""__NAME__: a weft connector, in Python.

It reads orders from a plain JSON storefront API (`GET /shop/v1/orders` with
a bearer token, paged by page number), the API weft's simulators serve for
plugin authors. Replace the request building and the reply parsing with
your system's; keep the shape: describe, check, read.
"""

import json
from urllib.parse import urlencode

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import http, log
from wit_world.imports.types import (
    ConnectionField,
    ConnectorInfo,
    Direction,
    EgressRule_BaseUrl,
    FieldKind,
    OperationInfo,
    Page,
    PluginError_Auth,
    PluginError_Fatal,
    PluginError_Invalid,
    PluginError_RateLimited,
    PluginError_Transient,
    RateLimit,
)

ORDERS_PARAMS = {
    "type": "object",
    "properties": {
        "updated_from": {"type": "string", "description": "Orders updated at or after this time (yyyy-MM-dd HH:mm:ss)."},
        "updated_to": {"type": "string", "description": "Orders updated at or before this time (yyyy-MM-dd HH:mm:ss)."},
        "page_size": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Orders per page (default 50)."},
    },
}


def fail(error):
    """Raises a classified error across the WIT boundary."""
    raise Err(error)


def get(ctx, path: str, query: dict) -> dict:
    config = json.loads(ctx.config)
    url = f"{config['base_url'].rstrip('/')}{path}?{urlencode(query)}"
    request = http.Request(
        method=http.Method.GET,
        url=url,
        headers=[("accept", "application/json"), ("authorization", f"Bearer {config['token']}")],
        body=None,
        timeout_ms=None,
    )
    try:
        response = http.send(request)
    except Err as e:
        # Refused by the sandbox or malformed: retrying cannot help.
        if isinstance(e.value, (http.HttpError_Denied, http.HttpError_InvalidRequest)):
            fail(PluginError_Fatal(f"GET {path}: {e.value.value}"))
        fail(PluginError_Transient(f"GET {path}: {e.value.value}"))
    text = f"HTTP {response.status}: {response.body[:200].decode('utf-8', 'replace')}"
    if response.status in (401, 403):
        fail(PluginError_Auth(text))
    if response.status == 429:
        fail(PluginError_RateLimited(RateLimit(None, text)))
    if response.status >= 500:
        fail(PluginError_Transient(text))
    if response.status >= 300:
        fail(PluginError_Invalid(text))
    return json.loads(response.body)


class ConnectorApi(exports.ConnectorApi):
    def describe(self) -> ConnectorInfo:
        return ConnectorInfo(
            name="__NAME__",
            version="0.1.0",
            title="__TITLE__",
            description="Orders of a plain JSON storefront API.",
            connection_fields=[
                ConnectionField("base_url", "Base URL", "The API's origin.", FieldKind.URL, True, False, None),
                ConnectionField("token", "API token", "The bearer token.", FieldKind.TEXT, True, True, None),
            ],
            egress=[EgressRule_BaseUrl()],
            operations=[
                OperationInfo(
                    id="orders",
                    title="Orders",
                    description="Orders by update time, with their lines.",
                    direction=Direction.SOURCE,
                    params_schema=json.dumps(ORDERS_PARAMS),
                    key_pointer="/id",
                    max_window_secs=31 * 86_400,
                    window_params=("updated_from", "updated_to"),
                    max_batch=None,
                )
            ],
        )

    def check(self, ctx) -> None:
        get(ctx, "/shop/v1/orders", {"per_page": 1})

    def read(self, ctx, operation: str, params: str, cursor):
        if operation != "orders":
            fail(PluginError_Fatal(f"unknown operation '{operation}'"))
        p = json.loads(params)
        page = int(cursor) if cursor else 1
        per_page = max(1, min(int(p.get("page_size", 50)), 100))
        query = {"page": page, "per_page": per_page}
        query.update({k: p[k] for k in ("updated_from", "updated_to") if p.get(k)})
        body = get(ctx, "/shop/v1/orders", query)
        log.emit(log.Level.DEBUG, "read a page", [("page", str(page))])
        more = page * per_page < body["total"]
        return Page(records=json.dumps(body["orders"]), next=str(page + 1) if more else None, total=body["total"])

    def write(self, ctx, operation: str, params: str, records: str):
        fail(PluginError_Fatal(f"operation '{operation}' is not a target of this connector"))

    def webhook(self, ctx, operation: str, request):
        fail(PluginError_Fatal(f"operation '{operation}' is not a webhook of this connector"))
