"""The events AWS hands the functions, built from local HTTP requests and SQS messages.

The local gateway and the tests use these builders so that a handler sees on the laptop what
it sees in AWS: a Lambda function URL event for the webhook, an HTTP API (payload 2.0) event
for the REST API, and the SQS event source mapping's batch for ingest. Shapes follow the AWS
Lambda and API Gateway documentation for payload format 2.0.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

LOCAL_ACCOUNT_ID = "123456789012"
FUNCTION_URL_ID = "inboxlocalwebhook"
HTTP_API_ID = "inboxlocal"

# Content types API Gateway and function URLs pass as text; any other body is base64.
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "+json",
    "+xml",
)


@dataclass(frozen=True)
class HttpRequest:
    """What the gateway took from the wire: header names as sent, the raw body bytes."""

    method: str
    path: str
    query_string: str = ""
    headers: Iterable[tuple[str, str]] = ()
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    host: str = "127.0.0.1:8080"


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools and handlers read."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    region: str = "us-east-1"
    timeout_ms: int = 30_000
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_ms / 1000
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT_ID}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def function_url_event(request: HttpRequest) -> dict[str, Any]:
    """A Lambda function URL invocation event (payload format 2.0)."""
    return _payload_v2(
        request,
        route_key="$default",
        api_id=FUNCTION_URL_ID,
        domain=f"{FUNCTION_URL_ID}.lambda-url.us-east-1.on.aws",
        path_parameters=None,
    )


def http_api_event(
    request: HttpRequest, *, route_key: str, path_parameters: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An HTTP API event (payload format 2.0) for a route such as `ANY /api/{proxy+}`."""
    return _payload_v2(
        request,
        route_key=route_key,
        api_id=HTTP_API_ID,
        domain=f"{HTTP_API_ID}.execute-api.us-east-1.amazonaws.com",
        path_parameters=dict(path_parameters) if path_parameters else None,
    )


def api_event(request: HttpRequest) -> dict[str, Any]:
    """The event of the template's `/api` and `/api/{proxy+}` routes for this request."""
    proxy = request.path[len("/api/") :] if request.path.startswith("/api/") else None
    if proxy is None:
        return http_api_event(request, route_key="ANY /api")
    return http_api_event(request, route_key="ANY /api/{proxy+}", path_parameters={"proxy": proxy})


def _payload_v2(
    request: HttpRequest,
    *,
    route_key: str,
    api_id: str,
    domain: str,
    path_parameters: dict[str, str] | None,
) -> dict[str, Any]:
    headers, cookies = _headers(request.headers)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string,
        "headers": headers,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT_ID if api_id == HTTP_API_ID else "anonymous",
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {
                "method": request.method.upper(),
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    query = _query_parameters(request.query_string)
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        event["body"], event["isBase64Encoded"] = _body(
            request.body, headers.get("content-type", "")
        )
    return event


def _headers(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    # Payload 2.0 lower-cases names, joins repeated headers with commas and moves cookies
    # out of the headers into their own list.
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers, cookies


def _query_parameters(query_string: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def _body(raw: bytes, content_type: str) -> tuple[str, bool]:
    lowered = content_type.lower()
    if any(kind in lowered for kind in _TEXT_TYPES):
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(raw).decode("ascii"), True


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http_response(result: Any) -> HttpResponse:
    """The HTTP answer API Gateway and function URLs make of a payload 2.0 handler's result.

    A dict with `statusCode` is used as is; anything else is taken as a JSON body with status
    200, as AWS infers it.
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        body = json.dumps(result).encode() if not isinstance(result, str) else result.encode()
        return HttpResponse(200, [("content-type", "application/json")], body)

    headers = [(name, str(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(value)) for value in values)
    headers.extend(("set-cookie", cookie) for cookie in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return HttpResponse(int(result["statusCode"]), headers, body)


def sqs_event(
    messages: Iterable[Mapping[str, Any]], *, queue_arn: str, region: str
) -> dict[str, Any]:
    """The batch Lambda's SQS event source mapping hands a function, from `receive_message`.

    `messages` are items of a `ReceiveMessage` answer asked with `AttributeNames=["All"]`
    and `MessageAttributeNames=["All"]`.
    """
    return {"Records": [_sqs_record(message, queue_arn, region) for message in messages]}


def _sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    # The event spells the ReceiveMessage fields in camel case.
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": list(value.get("BinaryListValues") or []),
        "dataType": value["DataType"],
    }
