"""Role-play engine of the training mode: scenarios, facts, the simulated customer, scores."""

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from dianxiaoer.coaching import roleplay
from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.shop.complaints import TYPE_NAMES
from dianxiaoer.shop.orders import format_local, return_deadline
from dianxiaoer.shop.presale import MOTIVE_CUES

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
ROOT = Path(__file__).resolve().parents[2]
CONTENT = yaml.safe_load((ROOT / "config" / "roleplay.yml").read_text(encoding="utf-8"))
CATALOGUE = yaml.safe_load(
    (ROOT / "dianxiaoer" / "store" / "demo_shop.yml").read_text(encoding="utf-8")
)


def roundtrip(state):
    """The state as the Rasa slot gives it back."""
    again = json.loads(json.dumps(state, ensure_ascii=False))
    assert again == state
    return again


def play(scenario_id, replies, now=NOW):
    """Play the replies (until the play ends), through JSON between every turn."""
    state = roundtrip(roleplay.start(scenario_id, now))
    moods = [state["mood"]]
    for reply in replies:
        if roleplay.is_over(state):
            break
        before = json.dumps(state, sort_keys=True)
        state = roundtrip(roleplay.react(state, reply))
        assert json.dumps(state, sort_keys=True) != before
        moods.append(state["mood"])
    return state, moods


def rules():
    return get_policy()["training.roleplay"]


def codes_of(card):
    return [code for note in card.notes for code in note.codes]


# --- scenarios and facts -----------------------------------------------------------------


def test_scenarios_cover_every_combination_with_unique_stable_ids():
    all_scenarios = roleplay.scenarios()
    ids = [s.id for s in all_scenarios]
    assert len(ids) == len(set(ids)) == 5 * 6 * 3 + 5 * len(CONTENT["motives"]) == 125
    complaints = [s for s in all_scenarios if s.kind == "complaint"]
    assert {s.psychology for s in complaints} == set(TYPE_NAMES)
    assert {s.situation for s in complaints} == {"delay", "return", "payment"}
    presale = [s for s in all_scenarios if s.kind == "presale"]
    assert {s.situation for s in presale} == {"size"}
    assert {s.psychology for s in presale} <= set(MOTIVE_CUES)
    assert {"qiushi", "qiulian", "qiuming", "congzhong"} <= {s.psychology for s in presale}
    assert {s.customer_type for s in all_scenarios} == {
        "impulsive",
        "cautious",
        "picky",
        "talkative",
        "quiet",
    }
    first = roleplay.scenario("delay:impulsive:venting")
    assert (first.kind, first.customer_type, first.psychology, first.situation) == (
        "complaint",
        "impulsive",
        "venting",
        "delay",
    )
    assert first.title == "快递延迟｜情感冲动型客户｜发泄心理"
    assert "202611010002" in first.brief and "先倾听" in first.brief
    with pytest.raises(ValueError):
        roleplay.scenario("delay:nobody:venting")


def test_every_scenario_starts_with_an_opening_line_and_complete_texts():
    for scenario in roleplay.scenarios():
        state = roleplay.start(scenario.id, NOW)
        assert state["scenario"] == scenario.id and state["turn"] == 0
        assert not roleplay.is_over(state) and roleplay.outcome(state) is None
        line = roleplay.customer_line(state)
        assert len(line) >= 5 and "{" not in line, scenario.id
        assert "{" not in scenario.brief and "{" not in roleplay.brief_text(state)
        assert 0 <= state["mood"] <= rules()["mood"]["start_max"]
        assert roleplay.mood_label(state) in CONTENT["moods"]
        assert len(json.dumps(state, ensure_ascii=False)) < 1500, scenario.id
    quiet = roleplay.start("delay:quiet:venting", NOW)
    assert roleplay.customer_line(quiet) == "蓝牙耳机还没到。烦。"


def test_every_customer_line_renders_for_every_scenario():
    for scenario in roleplay.scenarios():
        state = roleplay.start(scenario.id, NOW)
        for section in ("reactions", "missing", "closings"):
            for key, entry in CONTENT[section].items():
                for index in range(len(roleplay._variants(entry, scenario))):
                    state["line"] = [section, key, index, "某事"]
                    line = roleplay.customer_line(state)
                    assert line and "{" not in line, (scenario.id, section, key)


def test_return_deadline_is_window_start_plus_168_hours_at_any_start_time():
    policy = get_policy()
    hours = policy["returns.no_reason_hours"]
    assert hours == 168
    days_ago = CONTENT["situations"]["return"]["demo"]["signed_days_ago"]
    for now in (
        NOW,
        datetime(2026, 11, 25, 0, 10, tzinfo=SHANGHAI),
        datetime(2027, 3, 1, 23, 50, tzinfo=SHANGHAI),
    ):
        facts = roleplay.start("return:picky:recognition", now)["facts"]
        signed = now - timedelta(days=days_ago)
        assert datetime.fromisoformat(facts["signed_at"]) == signed
        window_start = datetime(signed.year, signed.month, signed.day, tzinfo=SHANGHAI) + timedelta(
            days=1
        )
        deadline = datetime.fromisoformat(facts["deadline_at"])
        assert datetime.fromisoformat(facts["window_start_at"]) == window_start
        assert deadline == window_start + timedelta(hours=hours)
        assert deadline == return_deadline(signed, hours)
        assert deadline < now  # the situation is a return outside the window
        assert facts["quality_days"] == policy["returns.quality_issue_days"]
        assert facts["excluded"] == policy["returns.excluded_categories"]
        assert facts["refund_days"] == policy["returns.refund_within_days"]
    facts = roleplay.start("return:picky:recognition", NOW)["facts"]
    assert format_local(datetime.fromisoformat(facts["deadline_at"])) == "2026-11-23 00:00"
    assert (facts["order_id"], facts["product"], facts["customer_name"]) == (
        "202611010004",
        "羊毛衫",
        "李娜",
    )
    # 李娜 is 金卡会员, not VIP: the goodwill coupon is the ordinary complaint coupon
    assert facts["coupon_yuan"] == policy["complaints.coupon_yuan"]


def test_delay_payment_and_size_facts_come_from_the_catalogue_and_policy():
    policy = get_policy()
    products = {p["name"]: p for p in CATALOGUE["products"]}
    customers = {c["id"]: c for c in CATALOGUE["customers"]}

    delay = roleplay.start("delay:picky:remedy", NOW)["facts"]
    assert (delay["order_id"], delay["product"], delay["courier"]) == (
        "202611010002",
        "蓝牙耳机",
        "圆通",
    )
    assert delay["price"] == float(products["蓝牙耳机"]["price"])
    assert delay["vip_level"] == customers["C1001"]["vip_level"] == "VIP"
    assert delay["hours_since_scan"] == 96 == delay["days_since_scan"] * 24
    assert datetime.fromisoformat(delay["last_scan_at"]) == NOW - timedelta(days=4)
    # 96 h without a scan is a long delay (policy) → the long-delay coupon
    assert delay["hours_since_scan"] >= policy["delays.long_delay_hours"]
    assert delay["coupon_yuan"] == policy["compensation.long_delay_coupon_yuan"]
    assert delay["coupon_min_spend"] == policy["compensation.coupon_min_spend_yuan"]
    assert delay["coupon_valid_days"] == policy["compensation.coupon_valid_days"]
    assert set(delay["other_couriers"]) == set(policy["shipping.couriers"]) - {"圆通"}

    payment = roleplay.start("payment:cautious:remedy", NOW)["facts"]
    assert (payment["order_id"], payment["product"], payment["method"]) == (
        "202611010007",
        "充电宝",
        "快捷支付",
    )
    assert payment["price"] == float(products["充电宝"]["price"])
    assert payment["reason"] == "limit" and "限额" in payment["reason_label"]
    assert datetime.fromisoformat(payment["auto_cancel_at"]) == NOW - timedelta(
        hours=1
    ) + timedelta(hours=policy["unpaid.auto_cancel_hours"])
    assert set(payment["other_methods"]) == set(policy["payment.methods"]) - {"快捷支付"}

    size = roleplay.start("size:cautious:qiuming", NOW)["facts"]
    dress = products["连衣裙"]
    chart = CATALOGUE["size_charts"][dress["size_chart"]]
    assert (size["height"], size["weight"], size["size"]) == (165, 58, "L")
    low, high = chart["L"]["height"]
    assert low <= size["height"] <= high
    assert size["stock"] == dress["stock"]["L"] == 8
    assert size["sold_out"] == ["M"]
    assert size["brand"] == dress["attributes"]["品牌"]
    assert size["monthly_sales"] == dress["monthly_sales"]
    assert size["free_shipping"] is (
        float(dress["price"]) >= policy["shipping.free_shipping_over_yuan"]
    )
    assert size["price_protect_days"] == policy["price_protection.days"]


# --- reading facts in a reply ------------------------------------------------------------


@pytest.mark.parametrize(
    "text, right, wrong",
    [
        ("已于11月23日00:00截止", ["deadline_at"], []),
        ("截止到11月22日24点", ["deadline_at"], []),
        ("截止時間是2026年11月23日零點", ["deadline_at"], []),  # traditional
        ("23号0点截止", ["deadline_at"], []),
        ("您是11月15日签收的，11月16日零点起算", [], []),
        ("截止到11月24日", [], ["deadline_at"]),
        ("15天内都可以无理由退货", [], ["no_reason_days"]),
        ("七天无理由退货，共168小时，从签收次日零时起算", None, []),
        ("签收15天内的质量问题可以换货", ["quality_days"], []),
        ("退款7天内到账", [], ["refund_days"]),
    ],
)
def test_return_facts_in_a_reply(text, right, wrong):
    state = roleplay.start("return:picky:venting", NOW)
    reading = roleplay._read(text, roleplay.scenario(state["scenario"]), state["facts"])
    if right is None:
        assert {"no_reason_days", "no_reason_hours", "window_starts"} <= set(reading.right)
    else:
        assert reading.right == right
    assert reading.wrong == wrong


@pytest.mark.parametrize(
    "scenario_id, text, right, wrong",
    [
        (
            "delay:picky:venting",
            "补偿您一张20元优惠券，满50元可用",
            ["coupon_yuan", "coupon_min_spend"],
            [],
        ),
        ("delay:picky:venting", "补偿您一张5元优惠券", [], ["coupon_yuan"]),
        ("delay:picky:venting", "我们联系一下中通快递", [], ["courier"]),
        ("payment:picky:venting", "是因为超出了单笔限额", ["reason"], []),
        ("payment:picky:venting", "是您的余额不足", [], ["reason"]),
        ("payment:picky:venting", "订单保留到11月27日", [], ["auto_cancel_at"]),
        ("size:picky:qiulian", "M码没货了，建议您拍L码", ["size"], []),
        ("size:picky:qiulian", "建议您选M码", [], ["size"]),
        ("size:picky:qiulian", "这款不包邮", [], ["free_shipping"]),
        ("size:picky:congzhong", "月销1520件", ["monthly_sales"], []),
        # a number belongs to its own sentence: 七天 is not the launch of the 新款
        (
            "size:picky:qiuxin",
            "这是20天前上新的新款。不合适七天无理由退换。",
            ["launched_days"],
            [],
        ),
    ],
)
def test_other_facts_in_a_reply(scenario_id, text, right, wrong):
    state = roleplay.start(scenario_id, NOW)
    reading = roleplay._read(text, roleplay.scenario(scenario_id), state["facts"])
    assert (reading.right, reading.wrong) == (right, wrong)


# --- good trainees -----------------------------------------------------------------------

GOOD = {
    "delay:impulsive:venting": [
        "亲，真的非常抱歉让您久等了，我特别理解您的心情！我查到您的耳机（圆通YT9876543210987）"
        "4天前到了杭州转运中心后就没有更新了，我马上给您提交催件工单加急处理。",
        "另外耽误了您这么多天，给您补偿一张20元优惠券，满50元可用，30天内有效，您看可以吗？",
    ],
    "delay:talkative:showing": [
        "亲，您说得很专业，物流4天不更新确实应该预警，感谢您的宝贵建议，也向您道歉！"
        "您的蓝牙耳机停在杭州转运中心了，我已经给您提交了催件工单，请快递加急派送。",
        "为了表示歉意，给您发一张20元优惠券，30天内有效。您朋友的生日礼物一定能赶上，"
        "请问还有什么需要我帮您的吗？",
    ],
    "return:picky:recognition": [
        "亲，您说得对，衣服穿一次就起球确实是我们没把好关，感谢您的反馈，也向您道歉。"
        "您的七天无理由退货从签收次日零时起算，共168小时，已于11月23日00:00截止。",
        "不过签收15天内有质量问题可以退换，我现在就给您申请质量问题售后，来回运费我们承担，"
        "退款在仓库签收后3天内原路退回。",
    ],
    "return:cautious:respect": [
        "尊敬的金卡会员李娜您好，非常抱歉给您带来不好的体验，理解您的心情，您的问题我们非常重视。"
        "您的七天无理由退货期是签收次日零时起168小时，已于2026-11-23 00:00截止；"
        "不过签收15天内有质量问题可以退换，我这就专人为您走质量问题售后。",
    ],
    "payment:quiet:venting": [
        "亲，抱歉让您着急了，我理解您的心情。我查了一下，您这笔快捷支付没成功是因为超出了"
        "银行卡的单笔支付限额，请问您方便换用支付宝或花呗重新支付吗？",
    ],
    "payment:impulsive:revenge": [
        "亲，非常抱歉让您这么生气，您的问题我已按最高优先级记录，专人全程跟进。"
        "付款没成功是因为超出了银行卡的单笔支付限额，您换用支付宝或花呗重新支付就可以了。",
    ],
    "size:cautious:qiuming": [
        "亲，欢迎光临！按您身高165cm、体重58kg，建议您选L码，L码适合身高165-172cm，"
        "目前还有8件。这款是店小二自营品牌，官方正品，您放心。",
    ],
    "size:quiet:congzhong": [
        "亲，欢迎光临，很高兴为您推荐！您这个身高体重建议选L码，L码还有8件。这款月销1520件，"
        "是店里的热销款，您看要不要拍L码？",
    ],
}


@pytest.mark.parametrize("scenario_id", sorted(GOOD))
def test_a_good_trainee_resolves_the_case_with_a_high_score(scenario_id):
    state, moods = play(scenario_id, GOOD[scenario_id])
    assert roleplay.outcome(state) == "resolved", state["turns"]
    assert roleplay.is_over(state)
    assert state["turn"] == len(GOOD[scenario_id])  # every reply was needed, none more
    assert moods[-1] <= rules()["mood"]["calm_at_most"] and moods[-1] < moods[0]
    card = roleplay.scorecard(state)
    assert card.total >= 80, (card.total, card.dimensions)
    assert card.grade in {"优秀", "良好"}
    assert not card.model_replies
    assert all(note.delta > 0 for note in card.notes)
    codes = codes_of(card)
    assert not [c for c in codes if c.split(":")[0] in roleplay.NEGATIVE_CODES]
    assert "resolved" in codes
    assert roleplay.customer_line(state) in _lines("closings", "resolved", scenario_id, state)


def _lines(section, key, scenario_id, state):
    sc = roleplay.scenario(scenario_id)
    values = {**roleplay._display(state["facts"]), "arg": state["line"][3]}
    return [roleplay._fill(v, values) for v in roleplay._variants(CONTENT[section][key], sc)]


def test_the_delay_customer_asks_for_what_is_still_missing():
    state, moods = play("delay:impulsive:venting", GOOD["delay:impulsive:venting"][:1])
    assert not roleplay.is_over(state)
    assert state["met"] == ["chase"]  # the coupon is still missing
    assert moods[1] < moods[0]
    assert roleplay.customer_line(state) in _lines("missing", "coupon", state["scenario"], state)
    assert roleplay.mood_label(state) == "平静"


def test_model_replies_resolve_every_scenario_in_one_turn():
    for scenario in roleplay.scenarios():
        state = roleplay.start(scenario.id, NOW)
        reply = roleplay.model_reply(state)
        limit = rules()["reply_chars"].get(
            f"max_{scenario.customer_type}", rules()["reply_chars"]["max"]
        )
        assert len(reply.replace(" ", "")) <= limit, scenario.id
        assert not any(p in reply for p in get_policy()["complaints.forbidden_phrases"])
        state = roleplay.react(state, reply)
        assert roleplay.outcome(state) == "resolved", (scenario.id, state["turns"])
        codes = {c.split(":")[0] for c in state["turns"][0]["c"]}
        assert not codes & roleplay.NEGATIVE_CODES, (scenario.id, codes)
        assert roleplay.scorecard(state).total >= 90, scenario.id


# --- bad trainees ------------------------------------------------------------------------

BAD = {
    # blames the customer, a forbidden phrase, an excuse, no remedy
    "delay:impulsive:venting": (
        ["这是快递公司的问题，不关我们的事，是你自己选的圆通。"],
        "escalated",
        {"blame", "forbidden:不关我们的事", "excuse", "cold_start", "no_address"},
    ),
    # a wrong deadline and "15天", no remedy
    "return:picky:recognition": (
        ["你好，15天内都可以无理由退货，截止到11月28日，你去申请退货吧。"],
        "escalated",
        {"wrong_fact:no_reason_days", "wrong_fact:deadline_at", "no_progress:deadline"},
    ),
    # forbidden phrases to a quiet customer, who leaves
    "payment:quiet:venting": (
        ["没办法，你自己看一下支付页面吧。"],
        "left",
        {"forbidden:没办法", "forbidden:你自己看", "no_question", "no_progress:reason"},
    ),
    # polite but vague and empty to a cautious customer, who leaves after a few turns
    "delay:cautious:venting": (
        ["亲，您好，我们会尽快帮您处理的。"] * 6,
        "left",
        {"vague:尽快", "no_progress:chase", "cold_start"},
    ),
}


@pytest.mark.parametrize("scenario_id", sorted(BAD))
def test_a_rude_or_wrong_trainee_scores_low_and_the_customer_escalates(scenario_id):
    replies, expected_outcome, expected_codes = BAD[scenario_id]
    state, moods = play(scenario_id, replies)
    assert roleplay.outcome(state) == expected_outcome, state["turns"]
    assert moods[1] > moods[0]  # the first reply already made it worse
    assert moods[-1] >= rules()["mood"]["escalate_at"]
    card = roleplay.scorecard(state)
    assert card.total < 50, (card.total, card.dimensions)
    assert card.grade == "需改进"
    codes = set(codes_of(card))
    assert expected_codes <= codes
    assert expected_outcome in codes
    # every turn was weak: each is noted with a loss and gets a model reply
    assert [n.turn for n in card.notes] == list(range(1, state["turn"] + 1))
    assert all(n.delta < 0 for n in card.notes)
    assert [t for t, _ in card.model_replies] == [n.turn for n in card.notes]
    sc = roleplay.scenario(scenario_id)
    for turn, reply in card.model_replies:
        assert reply.startswith(f"【{TYPE_NAMES[sc.psychology]}：")
        assert reply.endswith(roleplay.model_reply(state, turn))
    labels = " ".join(r for n in card.notes for r in n.reasons)
    for code in expected_codes:
        key, _, arg = code.partition(":")
        assert CONTENT["reasons"][key].split("{")[0] in labels, key
        if key == "forbidden":
            assert f"“{arg}”" in labels
    line = roleplay.customer_line(state)
    if expected_outcome == "escalated":
        assert any(word in line for word in ("投诉", "差评", "领导"))
    assert line in _lines("closings", expected_outcome, scenario_id, state)


def test_the_model_reply_of_a_weak_turn_carries_the_facts_and_remedy():
    state, _ = play("return:picky:recognition", BAD["return:picky:recognition"][0])
    card = roleplay.scorecard(state)
    ((turn, reply),) = card.model_replies
    assert turn == 1
    assert reply.startswith("【认同心理：认同合理之处、感谢反馈】")
    assert "2026-11-23 00:00" in reply and "168小时" in reply and "15天" in reply
    assert "感谢您的反馈" in reply
    delay, _ = play("delay:impulsive:venting", BAD["delay:impulsive:venting"][0])
    ((_, reply),) = roleplay.scorecard(delay).model_replies
    assert "催件" in reply and "20元优惠券" in reply and "YT9876543210987" in reply
    size = roleplay.abandon(play("size:quiet:qiulian", ["?"])[0])
    ((_, reply),) = roleplay.scorecard(size).model_replies
    assert reply.startswith("【求廉心理：") and "L码" in reply and "包邮" in reply


def test_impulsive_customers_react_more_to_blame_and_empathy_than_cautious_ones():
    blame = "亲，物流停在杭州转运中心，是您自己没填对地址。"
    hot, _ = play("delay:impulsive:showing", [blame])
    cool, _ = play("delay:cautious:showing", [blame])
    assert "blame" in hot["turns"][0]["c"] and "blame" in cool["turns"][0]["c"]
    assert hot["mood"] - hot["start_mood"] > cool["mood"] - cool["start_mood"] > 0
    soothe = "亲，真的非常抱歉，我非常理解您的心情，我现在就为您处理，请问您方便稍等一下吗？"
    hot, _ = play("delay:impulsive:showing", [soothe])
    cool, _ = play("delay:cautious:showing", [soothe])
    assert hot["start_mood"] - hot["mood"] > cool["start_mood"] - cool["mood"]


def test_vague_promises_cost_points_only_with_distrustful_customers():
    reply = "亲，非常抱歉，我们应该很快就能帮您处理好。"
    picky, _ = play("delay:picky:venting", [reply])
    talkative, _ = play("delay:talkative:venting", [reply])
    assert any(c.startswith("vague:") for c in picky["turns"][0]["c"])
    assert not any(c.startswith("vague:") for c in talkative["turns"][0]["c"])
    assert roleplay.customer_line(picky) in _lines("reactions", "vague", picky["scenario"], picky)


def test_too_long_replies_annoy_the_impulsive_customer():
    long_reply = "亲，非常抱歉，" + "我们一定会认真核实您反映的情况，" * 12
    state, _ = play("delay:impulsive:venting", [long_reply])
    assert "too_long" in state["turns"][0]["c"]
    assert roleplay.customer_line(state) in _lines(
        "reactions", "too_long", state["scenario"], state
    )
    limit = rules()["reply_chars"]
    assert limit["max_impulsive"] < len(long_reply) <= limit["max"]
    calm, _ = play("delay:cautious:venting", [long_reply])
    assert "too_long" not in calm["turns"][0]["c"]


# --- limits, abandon, determinism --------------------------------------------------------


def test_the_turn_limit_ends_a_play():
    reply = "亲，您好，欢迎光临，请问有什么可以帮您的吗？"
    state, moods = play("size:talkative:congzhong", [reply] * 10)
    max_turns = rules()["max_turns"]
    assert state["turn"] == max_turns
    assert roleplay.outcome(state) == "turn_limit"
    assert max(moods) < rules()["mood"]["escalate_at"]
    assert roleplay.react(state, reply) == state  # nothing happens after the end
    card = roleplay.scorecard(state)
    assert card.outcome == "turn_limit"
    assert card.dimensions["efficiency"] < 50 and card.dimensions["resolution"] == 0
    assert "turn_limit" in codes_of(card)


def test_abandon_ends_the_play_and_keeps_the_turns():
    state, _ = play("return:cautious:venting", ["亲，非常抱歉让您着急了，我先帮您查一下订单。"])
    stopped = roleplay.abandon(state)
    assert state["outcome"] is None  # the input is not changed
    assert roleplay.is_over(stopped) and roleplay.outcome(stopped) == "abandoned"
    assert roleplay.customer_line(stopped) == "（练习已中止）"
    assert roleplay.abandon(stopped) == stopped
    assert roleplay.react(stopped, "亲，还在吗？") == stopped
    card = roleplay.scorecard(roundtrip(stopped))
    assert card.outcome == "abandoned"
    assert card.dimensions["resolution"] == 0
    assert card.dimensions["efficiency"] == 70  # whole minus the unresolved penalty
    empty = roleplay.scorecard(roleplay.abandon(roleplay.start("return:cautious:venting", NOW)))
    assert (empty.total, set(empty.dimensions.values()), empty.notes) == (0, {0}, [])


def test_react_does_not_mutate_its_input_and_is_deterministic():
    state = roleplay.start("delay:talkative:revenge", NOW)
    frozen = json.dumps(state, sort_keys=True)
    first = roleplay.react(state, "亲，非常抱歉，请问您的订单号是多少？")
    assert json.dumps(state, sort_keys=True) == frozen
    assert roleplay.react(state, "亲，非常抱歉，请问您的订单号是多少？") == first
    assert roleplay.customer_line(first) == roleplay.customer_line(roundtrip(first))


def test_the_state_stays_compact_after_a_long_play():
    long_reply = "亲，" + "这是一段很长的回复。" * 40
    state, _ = play("return:talkative:showing", [long_reply] * 6)
    assert roleplay.is_over(state)
    assert len(json.dumps(state, ensure_ascii=False)) < 4000
    assert all(len(t["x"]) <= 21 for t in state["turns"])


# --- choose ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "我想练一个投诉，挑剔的客户，快递延迟",
            {"kind": "complaint", "customer_type": "picky", "situation": "delay"},
        ),
        ("练习退货投诉，报复心理", {"situation": "return", "psychology": "revenge"}),
        ("練習支付失敗的投訴，沉默寡言的顧客", {"situation": "payment", "customer_type": "quiet"}),
        ("售前咨询", {"kind": "presale", "situation": "size"}),
        ("尺码问题，求廉的顾客", {"situation": "size", "psychology": "qiulian"}),
        ("来个情感冲动型的发泄客户", {"customer_type": "impulsive", "psychology": "venting"}),
        (
            "健谈的从众型顾客",
            {"customer_type": "talkative", "psychology": "congzhong", "kind": "presale"},
        ),
    ],
)
def test_choose_honours_keywords(text, expected):
    for seed in range(5):
        chosen = roleplay.choose(text, seed=seed)
        assert {k: getattr(chosen, k) for k in expected} == expected, (text, chosen.id)


def test_choose_without_keywords_is_a_seeded_pick():
    assert roleplay.choose("开始角色扮演", seed=3) == roleplay.choose("开始角色扮演", seed=3)
    assert roleplay.choose("随便来一个") == roleplay.choose("随便来一个")
    picked = {roleplay.choose("", seed=seed).id for seed in range(30)}
    assert len(picked) > 10
    assert {roleplay.scenario(i).kind for i in picked} == {"complaint", "presale"}


# --- scorecard text ----------------------------------------------------------------------


def test_scorecard_text_fills_every_template_value():
    for replies in (GOOD["delay:impulsive:venting"], BAD["delay:impulsive:venting"][0]):
        state, _ = play("delay:impulsive:venting", replies)
        card = roleplay.scorecard(state)
        text = roleplay.scorecard_text(card)
        assert set(text) == {"total", "grade", "dimensions", "notes", "model_replies"}
        assert all(isinstance(v, str) and v.strip() for v in text.values())
        assert text["total"] == str(card.total) and text["grade"] == card.grade
        lines = text["dimensions"].splitlines()
        for key, label in CONTENT["dimensions"].items():
            assert f"· {label}：{card.dimensions[key]}" in lines
        assert len(text["notes"].splitlines()) == len(card.notes)
        assert json.loads(json.dumps(card.as_dict(), ensure_ascii=False)) == card.as_dict()
    assert text["model_replies"].startswith("第1轮：【发泄心理：")
    assert "指责客户" in text["notes"] and "（-" in text["notes"]
    quiet = roleplay.scorecard_text(roleplay.scorecard(play("size:quiet:qiumei", [])[0]))
    assert quiet["notes"] == CONTENT["text"]["no_notes"]
    assert quiet["model_replies"] == CONTENT["text"]["no_model_replies"]
