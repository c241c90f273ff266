"""The HTTP request as the verifiers need it: raw bytes, raw path, raw query string.

Built from an API Gateway HTTP API payload-2.0 event. Nothing here re-encodes what the provider
signed: the body is the exact bytes received (base64-decoded when API Gateway encoded it) and the
query string is API Gateway's ``rawQueryString``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from shared import safejson
from shared.errors import BodyTooLarge, InvalidEncoding, InvalidJson

Params = dict[str, list[str]]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    raw_path: str
    raw_query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    scheme: str = "https"
    host: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower-case ('' when absent)."""
        value = self.headers.get("content-type", "")
        return value.split(";", 1)[0].strip().lower()

    def route_path(self, public_base_url: str | None = None) -> str:
        """The path a route is matched on: ``rawPath`` without the base URL's path prefix, which
        API Gateway leaves in ``rawPath`` when a custom domain maps the API under a prefix."""
        prefix = public_base_url.split("://", 1)[1].partition("/")[2] if public_base_url else ""
        if prefix and self.raw_path.startswith("/" + prefix + "/"):
            return self.raw_path[len(prefix) + 1 :]
        return self.raw_path

    def url(self, public_base_url: str | None = None) -> str:
        """The public URL the provider called: configured base (custom domain) or Host + scheme."""
        if public_base_url:
            base, path = public_base_url, self.route_path(public_base_url)
        else:
            base, path = f"{self.scheme}://{self.host}", self.raw_path
        return f"{base}{path}?{self.raw_query}" if self.raw_query else f"{base}{path}"

    def query_params(self) -> Params:
        return parse_params(self.raw_query)

    def form_params(self) -> Params:
        return parse_params(self.text())

    def text(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEncoding("the body is not valid UTF-8", position=exc.start) from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object: depth-bounded, strict numbers (``shared.safejson``). Lone
        surrogates are kept here; normalisation refuses them in key fields and repairs free text."""
        value = self._json()
        if not isinstance(value, dict):
            raise InvalidJson("the JSON body must be an object", got=type(value).__name__)
        return value

    def json_array(self) -> list[Any]:
        """The body as a JSON array (Twilio Event Streams), read as ``json_object`` reads an object;
        the depth bound counts the array itself."""
        value = self._json()
        if not isinstance(value, list):
            raise InvalidJson("the JSON body must be an array", got=type(value).__name__)
        return value

    def _json(self) -> Any:
        try:
            return safejson.loads(self.text())
        except safejson.JsonRejected as exc:
            raise InvalidJson(f"the body is not acceptable JSON: {exc.reason}") from None


def parse_params(text: str) -> Params:
    """Parse a query string or form body keeping blank values and every repeated value, in order."""
    out: Params = {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise InvalidEncoding("a parameter is not valid UTF-8 once percent-decoded") from None
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def flatten(params: Params) -> dict[str, Any]:
    """Parameters as event data: a single value as a string, a repeated one as a list."""
    return {k: (v[0] if len(v) == 1 else list(v)) for k, v in params.items()}


def last_values(params: Params) -> dict[str, str]:
    return {k: v[-1] for k, v in params.items()}


def request_from_apigw(event: Mapping[str, Any], *, max_body_bytes: int) -> HttpRequest:
    """Build the request from an HTTP API payload-2.0 event, enforcing the body size limit."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    ctx = event.get("requestContext") or {}
    http = ctx.get("http") or {}
    raw_body = event.get("body")
    body = b""
    if raw_body:
        if not isinstance(raw_body, str):
            raise InvalidEncoding("the event body must be a string")
        # A cheap bound before decoding anything: base64 is 4/3 of the bytes it carries.
        if len(raw_body) > max_body_bytes * 4 // 3 + 4:
            raise BodyTooLarge(limit=max_body_bytes)
        if event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(raw_body, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidEncoding("the body is marked base64 but is not valid base64") from None
        else:
            try:
                body = raw_body.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidEncoding("the body is not valid UTF-8") from None
        if len(body) > max_body_bytes:
            raise BodyTooLarge(limit=max_body_bytes, size=len(body))
    return HttpRequest(
        method=str(http.get("method") or "GET").upper(),
        raw_path=str(event.get("rawPath") or http.get("path") or "/"),
        raw_query=str(event.get("rawQueryString") or ""),
        headers=headers,
        body=body,
        scheme=(headers.get("x-forwarded-proto") or "https").split(",")[0].strip().lower(),
        host=headers.get("host") or str(ctx.get("domainName") or ""),
    )
