"""shop-py: a source connector for the plain JSON storefront that weft-sim
serves (`GET /shop/v1/orders`, docs/simulators.md), written in Python.

It shows the whole connector contract in a language other than Rust:
connection fields (one of them secret), egress limited to the connection's
base URL, a source operation that reads by modification time and pages by
page number, and every failure classified for the host.

Built with componentize-py against weft's `connector` world:

    componentize-py -d ../../../../wit -w connector componentize app -o shop_py.wasm
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

# The storefront's page cap.
MAX_PER_PAGE = 100
# The storefront has no window limit of its own; a month keeps pages of a
# first run over years of orders reasonably sized.
MAX_WINDOW_SECS = 31 * 86_400

ORDERS_PARAMS = {
    "type": "object",
    "properties": {
        "updated_from": {"type": "string", "description": "Orders updated at or after this time (yyyy-MM-dd HH:mm:ss)."},
        "updated_to": {"type": "string", "description": "Orders updated at or before this time (yyyy-MM-dd HH:mm:ss)."},
        "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "description": "Orders per page (default 50)."},
    },
}


def field(name, title, description, kind=FieldKind.TEXT, required=True, secret=False, default=None):
    return ConnectionField(name, title, description, kind, required, secret, default)


class ShopError(Exception):
    """A classified failure, raised to the WIT boundary as `Err`."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


def classify(status: int, body: bytes, headers) -> object:
    """The plugin-error for a non-2xx answer of the storefront."""
    try:
        message = json.loads(body).get("error", "")
    except (ValueError, AttributeError):
        message = body[:200].decode("utf-8", "replace")
    text = f"HTTP {status}: {message}"
    if status in (401, 403):
        return PluginError_Auth(f"the shop refused the token ({text})")
    if status == 429:
        retry = dict(headers).get("retry-after")
        wait = int(retry) * 1000 if retry and retry.isdigit() else None
        return PluginError_RateLimited(RateLimit(wait, text))
    if status >= 500:
        return PluginError_Transient(text)
    return PluginError_Invalid(text)


def get(ctx_config: dict, path: str, query: dict) -> dict:
    base = ctx_config.get("base_url", "").rstrip("/")
    if not base:
        raise ShopError(PluginError_Auth("the connection has no base_url"))
    token = ctx_config.get("token", "")
    request = http.Request(
        method=http.Method.GET,
        url=f"{base}{path}?{urlencode(query)}",
        headers=[("accept", "application/json"), ("authorization", f"Bearer {token}")],
        body=None,
        timeout_ms=None,
    )
    try:
        response = http.send(request)
    except Err as e:
        error = e.value
        # Refused by the sandbox or malformed: retrying cannot help.
        if isinstance(error, (http.HttpError_Denied, http.HttpError_InvalidRequest)):
            raise ShopError(PluginError_Fatal(f"GET {path}: {error.value}"))
        raise ShopError(PluginError_Transient(f"GET {path}: {error.value}"))
    if not 200 <= response.status < 300:
        raise ShopError(classify(response.status, response.body, response.headers))
    try:
        return json.loads(response.body)
    except ValueError as e:
        raise ShopError(PluginError_Transient(f"GET {path}: the reply is not JSON: {e}"))


def config_of(ctx) -> dict:
    try:
        return json.loads(ctx.config)
    except ValueError as e:
        raise ShopError(PluginError_Fatal(f"connection config: {e}"))


class ConnectorApi(exports.ConnectorApi):
    def describe(self) -> ConnectorInfo:
        return ConnectorInfo(
            name="shop-py",
            version="0.1.0",
            title="Shop (Python)",
            description="Orders of a plain JSON storefront API (GET /shop/v1/orders, bearer token).",
            connection_fields=[
                field("base_url", "Base URL", "The storefront's origin, e.g. https://shop.example.com.", FieldKind.URL),
                field("token", "API token", "The bearer token from the storefront's admin page.", secret=True),
            ],
            egress=[EgressRule_BaseUrl()],
            operations=[
                OperationInfo(
                    id="orders",
                    title="Orders",
                    description="Orders by update time, with their lines (GET /shop/v1/orders).",
                    direction=Direction.SOURCE,
                    params_schema=json.dumps(ORDERS_PARAMS),
                    key_pointer="/id",
                    max_window_secs=MAX_WINDOW_SECS,
                    window_params=("updated_from", "updated_to"),
                    max_batch=None,
                )
            ],
        )

    def check(self, ctx) -> None:
        try:
            get(config_of(ctx), "/shop/v1/orders", {"page": 1, "per_page": 1})
        except ShopError as e:
            raise Err(e.error)

    def read(self, ctx, operation: str, params: str, cursor):
        if operation != "orders":
            raise Err(PluginError_Fatal(f"unknown operation '{operation}'"))
        try:
            p = json.loads(params)
            page = int(cursor) if cursor else 1
        except ValueError as e:
            raise Err(PluginError_Fatal(f"params or cursor: {e}"))
        per_page = min(int(p.get("page_size", 50)), MAX_PER_PAGE)
        query = {"page": page, "per_page": per_page}
        for name in ("updated_from", "updated_to"):
            if p.get(name):
                query[name] = p[name]
        try:
            body = get(config_of(ctx), "/shop/v1/orders", query)
        except ShopError as e:
            raise Err(e.error)
        orders = body.get("orders")
        total = body.get("total")
        if not isinstance(orders, list) or not isinstance(total, int):
            raise Err(PluginError_Transient("the shop's reply has no orders list or total"))
        more = page * per_page < total
        log.emit(log.Level.DEBUG, "read a page of orders", [("page", str(page)), ("orders", str(len(orders)))])
        return Page(
            records=json.dumps(orders, ensure_ascii=False, separators=(",", ":")),
            next=str(page + 1) if more else None,
            total=total,
        )

    def write(self, ctx, operation: str, params: str, records: str):
        raise Err(PluginError_Fatal(f"operation '{operation}' is not a target of this connector"))

    def webhook(self, ctx, operation: str, request):
        raise Err(PluginError_Fatal(f"operation '{operation}' is not a webhook of this connector"))
