"""The event builders give handlers what function URLs and HTTP APIs give them in AWS."""

from __future__ import annotations

import base64
import json

from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEventV2,
    LambdaFunctionUrlEvent,
    SQSEvent,
)

from infra.local.events import (
    HttpRequest,
    LambdaContext,
    api_event,
    function_url_event,
    http_response,
    sqs_event,
)

WEBHOOK_BODY = b'{"object":"page","entry":[{"id":"1","text":"caf\\u00e9 \\/"}]}'


def webhook_request(**overrides: object) -> HttpRequest:
    values: dict = {
        "method": "POST",
        "path": "/webhooks/facebook",
        "headers": [
            ("Content-Type", "application/json"),
            ("X-Hub-Signature-256", "sha256=abc"),
            ("User-Agent", "facebookexternalua"),
        ],
        "body": WEBHOOK_BODY,
    }
    values.update(overrides)
    return HttpRequest(**values)


def test_function_url_event_has_payload_2_shape() -> None:
    event = function_url_event(webhook_request())

    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/webhooks/facebook" and event["rawQueryString"] == ""
    assert event["headers"] == {
        "content-type": "application/json",
        "x-hub-signature-256": "sha256=abc",
        "user-agent": "facebookexternalua",
    }
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/webhooks/facebook",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "facebookexternalua",
    }
    assert context["stage"] == "$default" and context["domainName"].endswith(".on.aws")
    assert isinstance(context["timeEpoch"], int) and context["requestId"]
    assert "queryStringParameters" not in event and "pathParameters" not in event


def test_a_json_body_is_passed_as_text_with_its_bytes_unchanged() -> None:
    event = function_url_event(webhook_request())

    assert event["isBase64Encoded"] is False
    assert event["body"].encode("utf-8") == WEBHOOK_BODY


def test_a_binary_body_is_base64() -> None:
    raw = bytes(range(256))
    event = function_url_event(
        webhook_request(headers=[("Content-Type", "application/octet-stream")], body=raw)
    )

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_the_verify_challenge_query_is_parsed_like_aws() -> None:
    query = "hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1158201444"

    event = function_url_event(webhook_request(method="GET", body=b"", query_string=query))

    assert event["rawQueryString"] == query
    assert event["queryStringParameters"] == {
        "hub.mode": "subscribe",
        "hub.verify_token": "tok",
        "hub.challenge": "1158201444",
    }
    assert "body" not in event
    parsed = LambdaFunctionUrlEvent(event)
    assert parsed.request_context.http.method == "GET"
    assert parsed.query_string_parameters["hub.challenge"] == "1158201444"


def test_repeated_headers_and_query_values_are_joined_and_cookies_split() -> None:
    event = api_event(
        HttpRequest(
            method="GET",
            path="/api/conversations",
            query_string="status=open&status=closed",
            headers=[("Accept", "a"), ("accept", "b"), ("Cookie", "x=1; y=2")],
        )
    )

    assert event["headers"] == {"accept": "a,b"}
    assert event["cookies"] == ["x=1", "y=2"]
    assert event["queryStringParameters"] == {"status": "open,closed"}


def test_api_proxy_route_event_has_http_api_shape() -> None:
    body = json.dumps({"email": "owner@example.com", "password": "pw"}).encode()

    event = api_event(
        HttpRequest(
            method="POST",
            path="/api/auth/login",
            headers=[("Content-Type", "application/json")],
            body=body,
        )
    )

    assert event["routeKey"] == event["requestContext"]["routeKey"] == "ANY /api/{proxy+}"
    assert event["pathParameters"] == {"proxy": "auth/login"}
    assert event["requestContext"]["http"]["path"] == "/api/auth/login"
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["domainName"].endswith(".execute-api.us-east-1.amazonaws.com")
    parsed = APIGatewayProxyEventV2(event)
    assert parsed.path == "/api/auth/login" and parsed.json_body["email"] == "owner@example.com"


def test_the_api_root_has_its_own_route_without_path_parameters() -> None:
    event = api_event(HttpRequest(method="GET", path="/api"))

    assert event["routeKey"] == "ANY /api" and "pathParameters" not in event


def test_a_handler_response_with_status_is_rendered_as_is() -> None:
    answer = http_response(
        {
            "statusCode": 201,
            "headers": {"content-type": "text/plain"},
            "body": "ok",
            "cookies": ["a=1"],
        }
    )

    assert (answer.status, answer.body) == (201, b"ok")
    assert ("content-type", "text/plain") in answer.headers
    assert ("set-cookie", "a=1") in answer.headers


def test_a_base64_response_body_is_decoded() -> None:
    answer = http_response(
        {"statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(b"\x00\x01").decode()}
    )

    assert answer.body == b"\x00\x01"


def test_a_bare_result_becomes_a_json_200_as_aws_infers_it() -> None:
    answer = http_response({"items": []})

    assert (answer.status, json.loads(answer.body)) == (200, {"items": []})
    assert ("content-type", "application/json") in answer.headers


def test_sqs_event_reads_with_powertools() -> None:
    message = {
        "MessageId": "id-1",
        "ReceiptHandle": "rh",
        "Body": "{}",
        "MD5OfBody": "m",
        "Attributes": {"MessageGroupId": "g", "ApproximateReceiveCount": "2"},
        "MessageAttributes": {"kind": {"StringValue": "x", "DataType": "String"}},
    }

    event = sqs_event(
        [message], queue_arn="arn:aws:sqs:us-east-1:123456789012:q.fifo", region="us-east-1"
    )

    record = next(iter(SQSEvent(event).records))
    assert record.message_id == "id-1" and record.receipt_handle == "rh"
    assert record.attributes.message_group_id == "g"
    assert record.attributes.approximate_receive_count == "2"
    assert record.message_attributes["kind"].string_value == "x"
    assert record.event_source_arn.endswith(":q.fifo")


def test_lambda_context_has_what_powertools_reads() -> None:
    context = LambdaContext(function_name="inbox-local-webhook")

    assert context.invoked_function_arn.endswith(":function:inbox-local-webhook")
    assert context.memory_limit_in_mb and context.aws_request_id
    assert 0 < context.get_remaining_time_in_millis() <= 30_000
