"""The Graph adapter's mapping of Facebook's codes, and page calls without a usable token."""

from __future__ import annotations

import pytest
from inbox import errors
from inbox.facebook.graph import _graph_error, retry_after


@pytest.mark.parametrize(("code", "subcode", "expected"), [
    (190, 463, errors.PageTokenInvalid),
    (190, 460, errors.PageTokenInvalid),
    (4, None, errors.GraphRateLimited),
    (613, 1996, errors.GraphRateLimited),
    (80006, None, errors.GraphRateLimited),
    (10, 2018278, errors.GraphOutsideWindow),
    (10, 2534022, errors.GraphOutsideWindow),
    (10, 2018108, errors.GraphUserUnavailable),
    (551, 1545041, errors.GraphUserUnavailable),
    (200, 1545041, errors.GraphUserUnavailable),
    (551, None, errors.GraphUserUnavailable),
    (10, None, errors.GraphPermissionMissing),
    (200, None, errors.GraphPermissionMissing),
    (100, None, errors.GraphInvalidParameter),
    (100, 2018001, errors.GraphInvalidParameter),
    (2, None, errors.GraphError),
])
def test_facebook_codes_become_domain_errors(code, subcode, expected):
    body = {"error": {"message": "m", "code": code, **({"error_subcode": subcode}
                                                        if subcode else {})}}

    found = _graph_error(400, body, {})

    assert type(found) is expected
    assert (found.fields["graph_code"], found.fields["graph_subcode"]) == (code, subcode)


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"X-Business-Use-Case-Usage": '{"1":[{"type":"messenger",'
                                   '"estimated_time_to_regain_access":5}]}'}, 300),
    ({"X-Business-Use-Case-Usage": '{"1":[{"estimated_time_to_regain_access":0}],'
                                   '"2":[{"estimated_time_to_regain_access":2}]}'}, 120),
    ({"X-Business-Use-Case-Usage": "not json"}, None),
    ({"X-App-Usage": '{"call_count":100}'}, None),
    ({}, None),
])
def test_retry_after_reads_the_business_use_case_header(headers, seconds):
    assert retry_after(headers) == seconds


def test_a_page_without_a_token_is_refused_before_any_call(stack, facebook):
    from inbox.actions.graph_calls import page_graph_call

    from tests.api.conftest import make_page

    make_page("100000000000001")

    with pytest.raises(errors.PageTokenInvalid) as refused:
        page_graph_call("100000000000001", "POST", "me/messages", recipient={"id": "1"})

    assert refused.value.fields["reason"] == "reconnect_needed"
    assert facebook.calls == []


def test_a_page_that_is_not_connected_is_refused(stack, facebook):
    from inbox.actions.graph_calls import page_graph_call

    with pytest.raises(errors.PageTokenInvalid) as refused:
        page_graph_call("100000000000009", "GET", "me")

    assert refused.value.fields["reason"] == "not_connected"
    assert facebook.calls == []
