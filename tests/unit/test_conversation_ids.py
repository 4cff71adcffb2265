"""Conversation ids in Rasa API paths: one quoted segment, decoded once by Rasa's app."""

from types import SimpleNamespace
from urllib.parse import unquote

import pytest

from dianxiaoer.core.conversation_ids import decode_conversation_id, install, path_segment

IDS = ["abc123", "user:42@shop", "x/../victim", "..", ".", "a b", "客户张三", "50%off", "q?x#f"]


@pytest.mark.parametrize("cid", IDS)
def test_a_quoted_id_is_one_segment_that_decodes_to_itself(cid):
    segment = path_segment(cid)
    assert "/" not in segment and "?" not in segment and "#" not in segment and " " not in segment
    assert segment not in (".", "..")
    assert unquote(segment) == cid


def test_plain_ids_are_not_quoted():
    for cid in ("abc123", "user:42@shop", "a-b_c.d~e", "x!$&'()*+,;=y"):
        assert path_segment(cid) == cid


def request(value):
    return SimpleNamespace(match_info={"conversation_id": value})


@pytest.mark.parametrize("cid", IDS)
def test_the_middleware_decodes_what_a_client_quoted(cid):
    r = request(path_segment(cid))
    assert decode_conversation_id(r) is None
    assert r.match_info["conversation_id"] == cid


def test_the_middleware_leaves_other_routes_and_refuses_bad_utf8():
    other = SimpleNamespace(match_info={"name": "a%20b"})
    decode_conversation_id(other)
    assert other.match_info == {"name": "a%20b"}
    assert decode_conversation_id(request("%ff%fe")).status == 400


def test_install_is_idempotent():
    added = []
    app = SimpleNamespace(ctx=SimpleNamespace(), register_middleware=lambda f, a: added.append(a))
    install(app)
    install(app)
    assert added == ["request"]
