"""Order journeys over REST with the orders in the shop's own order system (ORDER_SOURCE=http).

This module starts its own stack: the example order service (examples/order_service, a
separate process serving the demo orders over docs/order-api.md), an action server with
ORDER_SOURCE=http against it and an EMPTY shop store of its own (so every order the bot
shows came over the API), and a Rasa server calling that action server. The service is
then stopped in the middle of a conversation (the customer hears the store-outage apology)
and started again (the conversation goes on).
"""

from __future__ import annotations

import sqlite3
import subprocess
import uuid

import pytest
import requests
import yaml

from examples.order_service import launch
from tests.conftest import ACTIONS_BIN, MODEL, ROOT, Servers, free_port, stack

pytestmark = pytest.mark.e2e

TOKEN = "e2e-order-api-token"
APOLOGY = "订单系统暂时连接不上"


@pytest.fixture(scope="module")
def order_stack(request, tmp_path_factory):
    """(servers, order service): Rasa and an action server reading orders over HTTP."""
    model = MODEL if MODEL.exists() else request.getfixturevalue("trained_model")
    tmp = tmp_path_factory.mktemp("order_api")
    service = launch.start(free_port(), TOKEN, tmp / "orders.db", log=tmp / "order_service.log")
    policy_file = stack.round_the_clock_policy(tmp)
    policy = yaml.safe_load(policy_file.read_text(encoding="utf-8"))
    # a breaker opened by the outage closes again within this test's pace
    policy["order_api"]["breaker_cooldown_seconds"] = 1
    policy_file.write_text(yaml.safe_dump(policy, allow_unicode=True, sort_keys=False), "utf-8")
    rasa_port, actions_port = free_port(), free_port()
    env = stack.isolated_env(
        tmp,
        actions_port,
        SHOP_POLICY_FILE=str(policy_file),
        FOLLOWUP_DELAY_SECONDS="3600",
        RASA_PORT=str(rasa_port),
        ORDER_SOURCE="http",
        ORDER_API_URL=service.url,
        ORDER_API_TOKEN=TOKEN,
        ORDER_API_TIMEOUT_SECONDS="2",
    )
    # the assistant's own store: migrated, no demo orders in it
    subprocess.run(
        [str(ACTIONS_BIN / "python"), "-c", "from dianxiaoer.store.db import upgrade; upgrade()"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    procs = [
        stack.spawn(stack.actions_command(actions_port), env, tmp / "actions.log"),
        stack.spawn(stack.rasa_command(model, rasa_port, "e2e-order-api"), env, tmp / "rasa.log"),
    ]
    servers = Servers(rasa_port, actions_port, free_port(), tmp)
    try:
        stack.wait_until(
            lambda: (
                requests.get(servers.rasa_url, timeout=2).ok
                and requests.get(f"{servers.actions_url}/health", timeout=2).ok
            ),
            240,
            procs,
            tmp,
            interval=1,
        )
        yield servers, service
    finally:
        stack.stop(procs)
        service.stop()


def texts(replies) -> str:
    joined = "\n".join(r.get("text", "") for r in replies)
    assert "没能处理这个问题" not in joined, joined
    return joined


def verify(servers, who: str, question: str, order_id: str, tail: str) -> str:
    first = texts(servers.send(who, question))
    assert "订单号" in first, first
    second = texts(servers.send(who, order_id))
    assert "后四位" in second or "最后4位" in second, second
    return texts(servers.send(who, tail))


def sender() -> str:
    return f"order-api-{uuid.uuid4().hex[:10]}"


def service_rows(service, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(service.db) as db:
        return db.execute(sql, args).fetchall()


def test_status_and_a_wrong_tail_over_the_order_api(order_stack):
    servers, _ = order_stack
    answer = verify(servers, sender(), "帮我查一下订单", "202611010001", "1234")
    assert "中通" in answer and "上海转运中心" in answer
    # someone else's order with a wrong tail shows nothing
    wrong = verify(servers, sender(), "帮我查一下订单", "202611010003", "1234")
    assert "核对不上" in wrong
    for secret in ("运动鞋", "李娜", "顺丰", "签收"):
        assert secret not in wrong


def test_urge_files_the_ticket_with_the_order_system(order_stack):
    servers, service = order_stack
    answer = verify(servers, sender(), "我买的耳机怎么还没到啊，帮我催一下", "202611010002", "1234")
    assert "圆通" in answer and "杭州转运中心" in answer
    assert "催件工单 CJ" in answer and "优惠券" in answer
    number = "CJ" + answer.split("催件工单 CJ", 1)[1][:14]
    details = service_rows(
        service, "SELECT details FROM tickets WHERE order_id=? AND kind='urge'", "202611010002"
    )
    assert any(number in row[0] for row in details), details


def test_return_is_filed_in_the_order_system(order_stack):
    servers, service = order_stack
    who = sender()
    offer = verify(servers, who, "这双鞋子我想退货", "202611010003", "5678")
    assert "提交退货申请" in offer
    assert "退货原因" in texts(servers.send(who, "/affirm"))
    done = texts(servers.send(who, '/inform{"return_reason": "尺码不合适"}'))
    assert "退货单号 RMA" in done
    rma = "RMA" + done.split("退货单号 RMA", 1)[1][:14]
    assert service_rows(service, "SELECT reason FROM returns WHERE rma=?", rma) == [("尺码不合适",)]


def test_order_system_down_mid_conversation_then_back(order_stack):
    servers, service = order_stack
    who = sender()
    texts(servers.send(who, "帮我查一下订单"))
    asked = texts(servers.send(who, "202611010004"))
    assert "后四位" in asked or "最后4位" in asked, asked
    service.stop()
    try:
        down = texts(servers.send(who, "5678"))
        assert APOLOGY in down, down
        assert "羊毛衫" not in down
    finally:
        restarted = launch.start(service.port, TOKEN, service.db, log=service.log)
        service.process = restarted.process
    # the form asks for the tail again; the same conversation goes on
    answer = texts(servers.send(who, "5678"))
    if "后四位" in answer or "最后4位" in answer:
        answer = texts(servers.send(who, "5678"))
    assert "羊毛衫" in answer, answer
