"""Answer first, then ask, over REST: a problem report is acknowledged with the shop's
policy before the order number is asked, and the journey then goes on as usual."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.test_order_journeys import texts

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("message", "acknowledged"),
    [
        ("买的卫衣洗了一回就缩水了 怎么办", "缩水"),
        ("盒子里少了一个充电头", "补发"),
        ("鞋子做工粗糙 线头到处都是", "退货或换新"),
    ],
)
def test_problem_is_acknowledged_before_the_order_number(servers, message, acknowledged):
    who = f"first-{uuid.uuid4().hex[:10]}"
    replies = texts(servers.send(who, message))
    assert acknowledged in replies, replies
    assert "抱歉" in replies, replies
    # acknowledged first, then asked
    assert replies.index("抱歉") < replies.index("订单号"), replies
    second = texts(servers.send(who, "202611010002"))
    assert "后四位" in second or "最后4位" in second, second


def test_signed_but_not_received_gets_what_to_do(servers):
    who = f"signed-{uuid.uuid4().hex[:10]}"
    replies = texts(servers.send(who, "快递显示签收了 可是我根本没收到"))
    # the shop's steps (lockers, stations, neighbours, then a query with the courier)
    assert "快递柜" in replies and "订单号" in replies, replies


def test_no_thanks_closes_instead_of_asking_again(servers):
    who = f"close-{uuid.uuid4().hex[:10]}"
    texts(servers.send(who, "你好"))
    closing = texts(servers.send(who, "没了 谢谢"))
    assert "还有其他需要" not in closing, closing
