"""The admin page's domain side (dianxiaoer.knowledge.editor): FAQ and policy edits go to
override files, validated as on load, audited, and seen by get_knowledge_base() and
get_policy() without a restart; "needs retraining" follows the trained fingerprints.

Every test writes to temporary files (SHOP_FAQ_OVERRIDES, SHOP_POLICY_OVERRIDES,
ADMIN_AUDIT_LOG, FAQ_TRAINED_FINGERPRINT): the repository's files are never touched.
"""

from __future__ import annotations

import json

import pytest
import yaml

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import CONFIG_DIR, PROJECT_ROOT, STATE_DIR
from dianxiaoer.knowledge import editor
from dianxiaoer.knowledge.base import KnowledgeError, get_knowledge_base, load_entries
from dianxiaoer.knowledge.editor import EditError, FaqStore, PolicyStore

REPO_FILES = (
    PROJECT_ROOT / "knowledge" / "faq_shop.yml",
    CONFIG_DIR / "policy_shop.yml",
    STATE_DIR / "admin_audit.jsonl",
)
GIFT_WRAP = {
    "topic": "包装",
    "question": "可以礼品包装吗",
    # one a line, as the page's text area sends them
    "paraphrases": "能包装成礼物吗\n有礼盒吗\n送人可以包装一下吗\n礼品包装收费吗\n"
    "可以帮忙包成礼物吗",
    "answer": "可以的亲，下单时备注「礼品包装」即可，付款后{ship_hours}小时内发货。",
}


def _stamps():
    return {p: (p.stat().st_mtime_ns if p.exists() else None) for p in REPO_FILES}


@pytest.fixture(autouse=True)
def shop_files(tmp_path, monkeypatch):
    """Temporary override, audit and fingerprint files; the repository's stay as they are."""
    before = _stamps()
    files = {
        "SHOP_FAQ_OVERRIDES": tmp_path / "faq_shop.yml",
        "SHOP_POLICY_OVERRIDES": tmp_path / "policy_shop.yml",
        "ADMIN_AUDIT_LOG": tmp_path / "audit.jsonl",
        "FAQ_TRAINED_FINGERPRINT": tmp_path / "trained.faq.json",
    }
    for name, path in files.items():
        monkeypatch.setenv(name, str(path))
    monkeypatch.delenv("SHOP_POLICY_FILE", raising=False)
    yield files
    assert _stamps() == before, "a test changed the repository's override or audit files"


def values():
    return get_policy().reply_values()


def test_invalid_entries_are_refused_with_reasons_and_nothing_is_written(shop_files):
    store = FaqStore()
    with pytest.raises(EditError) as caught:
        store.save({**GIFT_WRAP, "paraphrases": "礼盒\n礼盒", "answer": "{nope}元"}, values(), True)
    message = str(caught.value)
    assert "至少要 5 个顾客问法" in message
    assert "问法重复：礼盒" in message
    assert "未知的占位符 {nope}" in message
    for broken, reason in [
        ({**GIFT_WRAP, "question": " "}, "标准问题不能为空"),
        ({**GIFT_WRAP, "id": "Faq.Gift"}, "编号须为 faq."),
        ({**GIFT_WRAP, "answer": "满{ 减"}, "花括号不成对"),
        ({**GIFT_WRAP, "answer": "{ship_hours:>5}"}, "不能带格式说明"),
    ]:
        with pytest.raises(EditError, match=reason):
            store.save(broken, values(), True)
    with pytest.raises(EditError, match="已存在"):
        store.save({**GIFT_WRAP, "id": "faq.ship_time"}, values(), True)
    with pytest.raises(EditError, match="没有编号"):
        store.save({**GIFT_WRAP, "id": "faq.nothing_here"}, values(), False)
    assert not shop_files["SHOP_FAQ_OVERRIDES"].exists()


def test_a_new_entry_is_written_and_retrieved_without_a_restart(shop_files):
    kb_before = get_knowledge_base()
    assert all(h.entry.question != GIFT_WRAP["question"] for h in kb_before.search("礼品包装"))
    before, after = FaqStore().save(GIFT_WRAP, values(), True)
    assert before is None
    assert after["id"] == "faq.shop_1" and after["origin"] == "新增"
    stored = yaml.safe_load(shop_files["SHOP_FAQ_OVERRIDES"].read_text(encoding="utf-8"))
    assert stored["entries"][0]["paraphrases"][0] == "能包装成礼物吗"
    # the action server's next call sees it: a changed file means a new knowledge base
    kb = get_knowledge_base()
    assert kb is not kb_before
    assert kb.search("可以帮忙包成礼物吗")[0].entry.id == "faq.shop_1"
    assert "faq.shop_1" in {e.id for e in load_entries()}
    assert "faq.shop_1" not in {e.id for e in load_entries(overrides=None)}
    # the next new entry gets the next number
    second = {
        **GIFT_WRAP,
        "question": "可以刻字吗",
        "paraphrases": "能刻字吗\n刻名字\n定制刻字\n可以刻字吗亲\n刻字收费吗",
    }
    assert FaqStore().save(second, values(), True)[1]["id"] == "faq.shop_2"


def test_a_shipped_entry_is_edited_disabled_enabled_and_reverted(shop_files):
    store = FaqStore()
    shipped = store.get("faq.ship_time")
    assert shipped is not None and shipped["origin"] == "出厂"
    edited = {**shipped, "answer": "亲，付款后{ship_hours}小时内发货，节假日照常。"}
    before, after = store.save(edited, values(), False)
    assert before == shipped and after["origin"] == "已修改"
    assert get_knowledge_base().by_id["faq.ship_time"].answer == edited["answer"]

    _, hidden = store.set_disabled("faq.ship_time", True)
    assert hidden["disabled"] and "faq.ship_time" not in get_knowledge_base().by_id
    assert store.get("faq.ship_time")["answer"] == edited["answer"]  # kept in the file
    store.set_disabled("faq.ship_time", False)
    assert get_knowledge_base().by_id["faq.ship_time"].answer == edited["answer"]

    _, reverted = store.revert("faq.ship_time")
    assert reverted == shipped
    assert get_knowledge_base().by_id["faq.ship_time"].answer == shipped["answer"]
    with pytest.raises(EditError, match="没有编号"):
        store.set_disabled("faq.nothing_here", True)

    # disabling alone is not an edit of the text
    store.set_disabled("faq.couriers", True)
    assert store.get("faq.couriers")["origin"] == "出厂"
    new = store.save(GIFT_WRAP, values(), True)[1]
    with pytest.raises(EditError, match="没有出厂内容"):
        store.revert(new["id"])


def test_search_ignores_script_and_case(shop_files):
    store = FaqStore()
    simplified = {r["id"] for r in store.search("退货")}
    assert simplified and simplified == {r["id"] for r in store.search("退貨")}
    assert {r["id"] for r in store.search("FAQ.SHIP_TIME")} == {"faq.ship_time"}
    assert len(store.search("")) == len(store.entries())


def test_new_questions_need_training_and_answers_do_not(shop_files):
    fingerprints = shop_files["FAQ_TRAINED_FINGERPRINT"]
    editor.write_fingerprints(fingerprints)  # what scripts/train.sh does after training
    store = FaqStore()
    assert editor.needs_training(store.entries()) == set()

    entry = store.get("faq.ship_time")
    store.save({**entry, "answer": entry["answer"] + "（节假日顺延）"}, values(), False)
    assert editor.needs_training(store.entries()) == set()  # retrieval has it already

    store.save(
        {**entry, "paraphrases": [*entry["paraphrases"], "几点前下单当天发"]}, values(), False
    )
    store.save(GIFT_WRAP, values(), True)
    store.set_disabled("faq.couriers", True)  # the model still knows its questions
    assert editor.needs_training(store.entries()) == {"faq.ship_time", "faq.shop_1", "faq.couriers"}

    editor.write_fingerprints(fingerprints)  # trained again
    assert editor.needs_training(store.entries()) == set()


def test_without_fingerprints_the_training_data_decides(shop_files):
    store = FaqStore()
    assert editor.needs_training(store.entries()) == set()  # data/nlu has every question
    store.save(GIFT_WRAP, values(), True)
    assert editor.needs_training(store.entries()) == {"faq.shop_1"}


def test_make_data_trains_on_the_overrides(shop_files):
    knowledge_nlu = pytest.importorskip("dianxiaoer.rasa_plugins.knowledge_nlu")
    store = FaqStore()
    store.save(GIFT_WRAP, values(), True)
    store.set_disabled("faq.couriers", True)
    couriers = store.get("faq.couriers")
    examples = knowledge_nlu.generate(load_entries(), set())
    everything = {e for group in examples.values() for e in group}
    assert "可以帮忙包成礼物吗" in examples["ask_faq"]
    assert not set(couriers["paraphrases"]) & everything


def test_fingerprint_command(shop_files, capsys):
    out = shop_files["FAQ_TRAINED_FINGERPRINT"]
    assert editor.main(["fingerprint", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["faq.ship_time"] == editor.fingerprint(FaqStore().get("faq.ship_time"))
    assert editor.main(["nonsense"]) == 2


def test_answers_preview_in_simplified_and_traditional():
    shown = editor.render_answer("亲，付款后{ship_hours}小时内发货，退货请联系客服", values())
    hours = get_policy()["shipping.ship_within_hours"]
    assert shown["simplified"] == f"亲，付款后{hours}小时内发货，退货请联系客服"
    assert shown["traditional"] == f"親，付款後{hours}小時內發貨，退貨請聯繫客服"
    assert shown["errors"] == [] and shown["warnings"] == []
    bad = editor.render_answer("{nope} 48小时", values())
    assert bad["simplified"] is None and bad["errors"] == ["未知的占位符 {nope}"]
    assert "占位符" in bad["warnings"][0]  # 48 written as digits


def test_policy_values_are_checked_as_on_load_and_apply_without_a_restart(shop_files):
    overrides = shop_files["SHOP_POLICY_OVERRIDES"]
    store = PolicyStore()
    shipped_hours = get_policy()["shipping.ship_within_hours"]
    for key, value, reason in [
        ("shipping.ship_within_hours", "abc", "请填数字"),
        ("shipping.ship_within_hours", "2.5", "请填整数"),
        ("returns.no_reason_days", "10", "no_reason_hours must equal 24"),
        ("shipping.default_courier", "极兔", "must be one of shipping.couriers"),
        ("delivery.courier_help_reply_hours", "0", "must be positive"),
        ("shipping.delivery_days_by_region", '[{"region": 1}]', "delivery_days_by_region"),
        ("nothing.here", "1", "没有这个政策项"),
    ]:
        with pytest.raises(EditError, match=reason):
            store.set(key, value)
    assert not overrides.exists()  # nothing refused was written

    assert store.set("shipping.ship_within_hours", "24") == (shipped_hours, 24)
    assert get_policy()["shipping.ship_within_hours"] == 24  # no restart
    assert get_policy().reply_values()["ship_hours"] == 24
    field = next(f for f in store.fields() if f["key"] == "shipping.ship_within_hours")
    assert field == {**field, "value": 24, "shipped": shipped_hours, "changed": True}
    # a yuan amount may take decimals; lists come one a line
    store.set("shipping.free_shipping_over_yuan", "99.5")
    store.set("shipping.remote_areas", "新疆\n西藏\n青海\n内蒙古\n")
    policy = get_policy()
    assert policy["shipping.free_shipping_over_yuan"] == 99.5
    assert policy["shipping.remote_areas"] == ["新疆", "西藏", "青海", "内蒙古"]
    assert policy["shipping.couriers"] == ["中通", "圆通", "顺丰"]  # siblings kept

    # back to the shipped value: nothing of it stays in the overrides
    store.set("shipping.ship_within_hours", str(shipped_hours))
    data = yaml.safe_load(overrides.read_text(encoding="utf-8"))
    assert "ship_within_hours" not in data["shipping"]
    assert get_policy()["shipping.ship_within_hours"] == shipped_hours


def test_policy_wordings_keep_their_placeholders(shop_files):
    store = PolicyStore()
    with pytest.raises(EditError, match="未知的占位符"):
        store.set("resilience.holding_reply", "请稍等，{nope}")
    with pytest.raises(EditError, match="不支持占位符"):
        store.set("service.hotline", "{hotline}")
    store.set("resilience.holding_reply", "系统有点忙，请稍后再试，或拨打 {hotline}")
    assert get_policy()["resilience.holding_reply"].endswith("{hotline}")


def test_the_order_number_format_is_a_pattern_not_a_wording(shop_files):
    """`{11}` in a pattern is a count, not a placeholder; a loose pattern is refused."""
    store = PolicyStore()
    for pattern, reason in [("\\d+", "short numbers"), ("QH(\\d{11}", "not a regular")]:
        with pytest.raises(EditError, match=reason):
            store.set("orders.id_pattern", pattern)
    assert not shop_files["SHOP_POLICY_OVERRIDES"].exists()
    store.set("orders.id_pattern", "QH\\d{11}")
    store.set("orders.id_example", "QH20261201001")
    assert get_policy().reply_values()["order_id_example"] == "QH20261201001"
    assert get_policy()["orders.id_pattern"] == "QH\\d{11}"


def test_an_extra_check_refuses_what_the_web_app_would(shop_files):
    from dianxiaoer.core.policy import PolicyError

    def check(policy):
        if policy["security.max_body_bytes"] < 1024:
            raise PolicyError("'security.max_body_bytes' too small")

    with pytest.raises(EditError, match="too small"):
        PolicyStore(extra_check=check).set("security.max_body_bytes", "10")
    assert not shop_files["SHOP_POLICY_OVERRIDES"].exists()


def test_the_audit_log_says_who_when_before_and_after(shop_files):
    who = {"id": "zhaomin", "name": "赵敏"}
    editor.append_audit(who, "policy", "shipping.ship_within_hours", "修改", 48, 24)
    editor.append_audit(who, "faq", "faq.shop_1", "新增", None, {"id": "faq.shop_1"})
    rows = editor.read_audit()
    assert [r["target"] for r in rows] == ["faq.shop_1", "shipping.ship_within_hours"]
    assert rows[1] == {**rows[1], "agent": "zhaomin", "name": "赵敏", "before": 48, "after": 24}
    assert rows[1]["time"].endswith("+00:00")
    assert len(editor.read_audit(limit=1)) == 1
    shop_files["ADMIN_AUDIT_LOG"].write_text("not json\n", encoding="utf-8")
    assert editor.read_audit() == []


def test_broken_override_files_fall_back_to_the_shipped_ones(shop_files, caplog):
    shipped_hours = get_policy()["shipping.ship_within_hours"]
    shop_files["SHOP_POLICY_OVERRIDES"].write_text("shipping: {ship_within_hours: 多}\n", "utf-8")
    assert get_policy()["shipping.ship_within_hours"] == shipped_hours
    shop_files["SHOP_FAQ_OVERRIDES"].write_text("entries: [{id: faq.x}]\n", "utf-8")
    assert "faq.ship_time" in get_knowledge_base().by_id
    assert "refused" in caplog.text
    # the page refuses to build on them
    with pytest.raises(KnowledgeError, match="faq_shop.yml faq.x"):
        FaqStore().save(GIFT_WRAP, values(), True)


def test_policy_comments_become_notes():
    notes = editor.policy_comments(
        "returns:\n  # 七天无理由\n  no_reason_days: 7\n  refund_within_days: 3  # 退款\n"
    )
    assert notes == {"returns.no_reason_days": "七天无理由", "returns.refund_within_days": "退款"}
