"""The training page's API on a real web app process (`python -m webapp`, SQLite store)."""

import os

import pytest
import requests

from dianxiaoer.core.auth import mint_token
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.store import training
from dianxiaoer.store.db import upgrade
from tests.conftest import stack
from tests.store.conftest import NOW

SECRET = "training-web-test-secret"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """Base URL of a web app on a free port, with a few recorded attempts."""
    tmp = tmp_path_factory.mktemp("training-web")
    url = f"sqlite:///{tmp / 'shop.db'}"
    upgrade(url)
    training.record_quiz_answer(
        "xiaoli", "term.a:t2m", "term_to_meaning", "退换货", 3, 1.0, NOW, url
    )
    training.record_quiz_answer("xiaoli", "policy:ship:f", "true_false", "", 3, 0.0, NOW, url)
    training.record_roleplay(
        "xiaoli", "complaint_venting", "resolved", 80, {"共情": 4}, 6, NOW, url=url
    )
    training.record_quiz_answer(
        "chat-abc", "term.b:t2m", "term_to_meaning", "购买心理", 2, 1.0, NOW, url
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "SHOP_DB": str(tmp / "shop.db"),
        "SHOP_TOKEN_SECRET": SECRET,
        "TRAINEE_TOKEN_XIAOZHAO": "zhao-secret",  # the environment replaces the demo token
    }
    env.pop("DATABASE_URL", None)
    with stack.web_app(env, tmp) as base:
        yield base


def login(web, trainee, token):
    return requests.post(
        f"{web}/api/training/login", json={"trainee": trainee, "token": token}, timeout=10
    )


def trainee_token(web, trainee="xiaoli"):
    r = login(web, trainee, f"demo-{trainee}")
    assert r.status_code == 200, r.text
    return r.json()["token"]


def test_training_page_is_served(web):
    r = requests.get(f"{web}/training", timeout=10)
    assert r.status_code == 200 and "charset=utf-8" in r.headers["content-type"]
    assert "/static/common.js" in r.text and "/static/training.js" in r.text
    js = requests.get(f"{web}/static/training.js", timeout=10).text
    assert "DXE_TRAINEE_TOKEN" in js and "dxe.loadWidget(" in js
    # the pages' shared helpers load the widget bundle
    assert "/widget.js" in requests.get(f"{web}/static/common.js", timeout=10).text
    for text in (
        "开始术语测验",
        "来几道考试题",
        "模拟一个投诉的顾客",
        "模拟一个售前咨询的顾客",
        "退出练习",
    ):
        assert text in r.text


def test_login_refuses_a_wrong_token_or_an_unknown_trainee(web):
    assert login(web, "xiaoli", "wrong").status_code == 401
    assert login(web, "小李", "demo-xiaozhao").status_code == 401
    assert login(web, "nobody", "demo-nobody").status_code == 401
    assert login(web, "", "").status_code == 401
    r = requests.post(f"{web}/api/training/login", data="not json", timeout=10)
    assert r.status_code == 400  # Sanic refuses a body that is not JSON


def test_login_by_name_or_id_and_environment_tokens(web):
    by_name = login(web, "小李", "demo-xiaoli")
    assert by_name.status_code == 200
    body = by_name.json()
    assert (body["trainee"], body["name"]) == ("xiaoli", "小李")
    assert body["token"].startswith("trainee:xiaoli.") and body["expires_in"] > 0
    # TRAINEE_TOKEN_XIAOZHAO is set: the demo token no longer works
    assert login(web, "xiaozhao", "demo-xiaozhao").status_code == 401
    assert login(web, "小赵", "zhao-secret").json()["trainee"] == "xiaozhao"


def test_progress_needs_a_trainee_token(web, monkeypatch):
    assert requests.get(f"{web}/api/training/progress", timeout=10).status_code == 401
    monkeypatch.setenv("SHOP_TOKEN_SECRET", SECRET)
    customer = mint_token("C1001", 600)  # valid for the web app, but a customer's
    bad = {"Authorization": f"Bearer {customer}"}
    assert requests.get(f"{web}/api/training/progress", headers=bad, timeout=10).status_code == 401
    token = trainee_token(web)
    r = requests.get(
        f"{web}/api/training/progress?trainee=chat-abc",  # a trainee sees only themself
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200
    data = r.json()
    assert data["trainee"] == {"id": "xiaoli", "name": "小李"}
    m = data["mastery"]
    assert (m["quiz"]["answered"], m["quiz"]["correct"]) == (2, 1)
    assert m["levels"]["3"]["answered"] == 1 and m["levels"]["policy"]["correct"] == 0
    assert m["roleplay"]["average_total"] == 80
    assert [a["type"] for a in data["recent"]] == ["roleplay", "quiz", "quiz"]  # newest first
    assert data["boxes"] == {"0": 1, "1": 1}
    assert data["level_names"]["policy"] == "政策判断题"
    # a trainee token is not a customer token
    orders = requests.get(
        f"{web}/api/orders", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert orders.status_code == 401


def test_plot_needs_a_trainee_token(web):
    assert requests.get(f"{web}/api/training/plot.png", timeout=10).status_code == 401
    token = trainee_token(web)
    r = requests.get(
        f"{web}/api/training/plot.png", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png" and r.content.startswith(PNG)


def test_trainee_list_needs_a_trainer(web):
    path = f"{web}/api/training/trainees"
    assert requests.get(path, timeout=10).status_code == 401
    assert requests.get(path, headers={"X-Agent-Token": "wrong"}, timeout=10).status_code == 401
    token = trainee_token(web)
    assert (
        requests.get(path, headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
        == 403
    )
    # 王芳 is an agent but not a trainer; 陈静 (team lead) is
    assert (
        requests.get(path, headers={"X-Agent-Token": "demo-wangfang"}, timeout=10).status_code
        == 403
    )
    r = requests.get(path, headers={"X-Agent-Token": "demo-chenjing"}, timeout=10)
    assert r.status_code == 200
    rows = {row["trainee_id"]: row for row in r.json()["trainees"]}
    assert set(rows) == {"xiaoli", "xiaozhao", "chat-abc"}
    assert (
        rows["xiaoli"]["name"],
        rows["xiaoli"]["attempts"],
        rows["xiaoli"]["quiz_accuracy"],
    ) == (
        "小李",
        3,
        0.5,
    )
    assert rows["xiaoli"]["roleplay_average"] == 80
    assert rows["xiaozhao"]["attempts"] == 0 and rows["xiaozhao"]["last_active"] is None
    assert rows["chat-abc"]["roster"] is False and rows["chat-abc"]["quiz_accuracy"] == 1.0


def test_a_trainer_sees_any_trainees_progress_and_plot(web):
    trainer = {"X-Agent-Token": "demo-chenjing"}
    r = requests.get(f"{web}/api/training/progress?trainee=chat-abc", headers=trainer, timeout=10)
    assert r.status_code == 200 and r.json()["mastery"]["quiz"]["answered"] == 1
    everyone = requests.get(f"{web}/api/training/progress", headers=trainer, timeout=10).json()
    assert everyone["trainee"] is None and everyone["mastery"]["quiz"]["answered"] == 3
    plot = requests.get(
        f"{web}/api/training/plot.png?trainee=chat-abc", headers=trainer, timeout=60
    )
    assert plot.status_code == 200 and plot.content.startswith(PNG)
    other_agent = {"X-Agent-Token": "demo-liuyang"}
    assert (
        requests.get(
            f"{web}/api/training/plot.png?trainee=xiaoli", headers=other_agent, timeout=10
        ).status_code
        == 403
    )
