"""The knowledge base: schema, completeness against the seeds, retrieval quality."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.core.text import to_traditional
from dianxiaoer.knowledge import kb_report
from dianxiaoer.knowledge.base import (
    KnowledgeBase,
    KnowledgeError,
    Thesaurus,
    answer_response,
    decide_by_policy,
    get_knowledge_base,
    is_english_question,
    load_entries,
)
from dianxiaoer.nlu.dataset import comparison_key

KB = get_knowledge_base()
ENTRIES = KB.entries
NAMED = [e for e in ENTRIES if e.kind != "faq"]
HELDOUT = yaml.safe_load((Path(__file__).parent / "faq_heldout.yml").read_text(encoding="utf-8"))


def test_counts_per_source():
    kinds = Counter(e.kind for e in ENTRIES)
    assert kinds == {"glossary": 8, "exam": 36, "term": 46, "faq": 60}
    assert sorted(e.number for e in ENTRIES if e.kind == "exam") == list(range(62, 98))
    projects = Counter(e.project for e in ENTRIES if e.kind == "term")
    assert projects == {1: 14, 2: 9, 3: 4, 4: 4, 5: 6, 6: 9}


def test_glossary_is_bilingual_with_examples():
    for e in (e for e in ENTRIES if e.kind == "glossary"):
        assert e.title_en and e.title_hant and e.definition_en and e.explanation
        assert e.examples, e.id
    touch = KB.by_id["glossary.customer_touch_points"]
    assert {"触点", "接触点"} <= set(touch.aliases)


def test_duplicate_term_is_merged():
    assert [e.id for e in ENTRIES if e.title == "有效沟通"] == ["term.p1.youxiao_goutong"]
    assert KB.by_id["term.p1.youxiao_goutong"].level == 3


@pytest.mark.parametrize(
    "name, level",
    [
        ("企业文化", 1),
        ("客服活动专员", 2),
        ("有效沟通", 3),
        ("职业倦怠症", 3),
        ("求实心理", 2),
        ("蚂蚁花呗", 1),
        ("货物延迟", 3),
        ("七天无理由退换货", 1),
        ("纠纷退款", 3),
        ("报复心理", 2),
        ("情感冲动型客户", 2),
        ("客户分类", 1),
    ],
)
def test_star_levels_match_the_seed(name, level):
    (entry,) = [e for e in ENTRIES if e.kind == "term" and e.title == name]
    assert entry.level == level


def test_seven_day_rule_keeps_the_168_hours():
    entry = next(e for e in ENTRIES if e.title == "七天无理由退换货")
    assert "168" in entry.explanation and "零时" in entry.explanation


def _items(entry_id, list_index=0):
    return [i.name for i in KB.by_id[entry_id].lists[list_index].items]


def test_lists_are_complete_and_in_order():
    assert _items("exam.65") == [
        "垄断忠诚",
        "惰性忠诚",
        "潜在忠诚",
        "方便忠诚",
        "价格忠诚",
        "激励忠诚",
        "超值忠诚",
    ]
    classes = KB.by_id["exam.68"].lists[0].items
    assert [c.name for c in classes] == ["程序转换成本", "财政转换成本", "情感转换成本"]
    assert sum(c.count() for c in classes) == 8
    assert [i.name for i in classes[1].items] == ["利益损失成本", "金钱损失成本"]
    assert [i.name for i in classes[2].items] == ["个人关系损失成本", "品牌关系损失成本"]
    assert _items("exam.75") == ["了解客户", "设计解决方案", "实施检验方案", "追踪和评估"]
    assert _items("exam.77") == ["进攻策略", "防守策略", "撤退策略"]
    assert _items("exam.87") == ["操作型", "分析型", "协作型"]
    assert _items("exam.88") == ["客户服务", "销售", "市场营销", "共享的客户资料库", "分析能力"]
    assert _items("exam.92") == ["排队模块", "呼叫分配模块"]
    assert len(_items("exam.95")) == 6
    assert _items("exam.96") == ["明确建设目标", "规划实施计划", "可行性分析", "成立专案小组"]
    assert _items("exam.97", 0) == ["实施策略", "业务蓝图", "系统准备", "系统测试", "系统上线"]
    assert len(_items("exam.97", 1)) == 4
    counts = {
        "exam.62": 3,
        "exam.63": 7,
        "exam.70": 6,
        "exam.71": 3,
        "exam.73": 7,
        "exam.74": 7,
        "exam.78": 4,
        "exam.80": 3,
        "exam.81": 5,
        "exam.83": 5,
        "exam.89": 5,
        "exam.91": 4,
        "exam.93": 2,
        "exam.94": 5,
    }
    for entry_id, n in counts.items():
        assert len(_items(entry_id)) == n, entry_id


def test_faq_answers_agree_with_the_policy_file():
    values = get_policy().reply_values()
    for e in (e for e in ENTRIES if e.kind == "faq"):
        text = e.answer.format(**values)
        assert "{" not in text and "}" not in text
        # figures only through placeholders: no digit in the raw answer
        assert not any(c.isdigit() for c in e.answer), e.id
        assert len(e.paraphrases) >= 5


@pytest.mark.parametrize("entry", NAMED, ids=lambda e: e.id)
def test_entry_is_found_by_its_own_name(entry):
    queries = [entry.title, to_traditional(entry.title)]
    if entry.title_en:
        queries.append(entry.title_en)
    for query in queries:
        assert KB.search(query, 1)[0].entry.id == entry.id, query


@pytest.mark.parametrize(
    "question, expected",
    [
        ("什么是转换成本", "exam.66"),
        ("客户忠诚有哪几种类型", "exam.65"),
        ("Customer loyalty 是什么意思", "glossary.customer_loyalty"),
        ("what is value proposition", "glossary.value_proposition"),
        ("touch point", "glossary.customer_touch_points"),
        ("ACD有哪两个模块", "exam.92"),
        ("什麼是求實心理", "term.p2.qiushi"),
        ("七天无理由怎么算", "faq.seven_day_return"),
        ("退款多久到账", "faq.refund_time"),
    ],
)
def test_typical_questions(question, expected):
    assert KB.search(question, 1)[0].entry.id == expected


def test_heldout_faq_paraphrases_are_never_training_material():
    written = set()
    for e in ENTRIES:
        written |= {comparison_key(t) for t in (*e.paraphrases, *e.aliases, e.question or "")}
    from rasa.shared.nlu.training_data.loading import load_data

    written |= {
        comparison_key(m.get("text"))
        for m in load_data(str(PROJECT_ROOT / "data" / "nlu")).intent_examples
    }
    leaked = [q for qs in HELDOUT.values() for q in qs if comparison_key(q) in written]
    assert leaked == []
    assert set(HELDOUT) == {e.id for e in ENTRIES if e.kind == "faq"}
    assert min(len(v) for v in HELDOUT.values()) >= 3


def test_heldout_faq_top1_accuracy_is_at_least_90_percent():
    total = correct = 0
    for entry_id, questions in HELDOUT.items():
        for q in questions:
            total += 1
            correct += KB.search(q, 1)[0].entry.id == entry_id
    accuracy = correct / total
    print(f"held-out FAQ top-1 accuracy: {accuracy:.3f} ({correct}/{total})")
    assert accuracy >= 0.90


def test_decisions():
    policy = get_policy()
    args = dict(
        min_score=policy["knowledge.min_score"], clear_ratio=policy["knowledge.clear_ratio"]
    )
    assert KB.decide("什么是求实心理", **args).kind == "answer"
    assert KB.decide("今天天气怎么样", **args).kind == "none"
    assert KB.decide("", **args).kind == "none"
    close = KB.decide("转换成本分几类", **args)
    assert close.kind in {"answer", "suggest"}
    assert "exam.68" in [h.entry.id for h in close.hits]


def test_paraphrase_classifier_answers_what_word_overlap_leaves_unsure():
    policy = get_policy()
    args = dict(
        min_score=policy["knowledge.min_score"], clear_ratio=policy["knowledge.clear_ratio"]
    )
    # too few shared words for BM25; the paraphrases' character n-grams know them
    for question, entry_id in (("买这个送点啥", "faq.gifts"), ("发的啥快递", "faq.couriers")):
        assert KB.decide(question, **args).kind != "answer"
        decision = KB.decide(question, **args, paraphrase_min_confidence=0.45)
        assert decision.kind == "answer" and decision.top.entry.id == entry_id
        guess = KB.paraphrase_guess(question)
        assert guess[0] == entry_id and guess[1] >= 0.45
    # it only picks among BM25's candidates, and never answers small talk
    assert KB.decide("今天天气怎么样", **args, paraphrase_min_confidence=0.45).kind == "none"
    assert KB.paraphrase_guess("") is None


def test_decide_by_policy_uses_the_policy_thresholds():
    assert decide_by_policy("买这个送点啥").top.entry.id == "faq.gifts"
    assert decide_by_policy("今天天气怎么样").kind == "none"


def test_thesaurus_keeps_names_whole():
    t = Thesaurus({"换成": "修改"}, protected=("转换成本",))
    assert t.apply("转换成本") == "转换成本"
    assert t.apply("能换成黑色吗") == "能修改黑色吗"


def test_answers_are_rendered_for_every_entry():
    values = get_policy().reply_values()
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    for e in ENTRIES:
        for english in (False, True):
            response, fields = answer_response(e, values, english=english)
            template = domain["responses"][response][0]["text"]
            assert "{" not in template.format(**fields)
    exam = answer_response(KB.by_id["exam.65"], values)[1]["list_text"]
    assert exam.splitlines()[-1] == "7. 超值忠诚"


def test_english_detection():
    assert is_english_question("Customer loyalty 是什么意思")
    assert is_english_question("what is follow-up")
    assert not is_english_question("什么是客户忠诚度")
    assert not is_english_question("")


def test_malformed_files_are_rejected(tmp_path):
    for name in ("glossary.yml", "exam_points.yml", "terms.yml", "faq.yml", "synonyms.yml"):
        (tmp_path / name).write_text(
            (PROJECT_ROOT / "knowledge" / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    faq = yaml.safe_load((tmp_path / "faq.yml").read_text(encoding="utf-8"))
    faq["entries"][0]["paraphrases"] = ["只有一个"]
    (tmp_path / "faq.yml").write_text(yaml.safe_dump(faq, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="at least 5 paraphrases"):
        load_entries(tmp_path)
    faq["entries"][0]["paraphrases"] = ["a", "b", "c", "d", "e"]
    faq["entries"][1]["id"] = faq["entries"][0]["id"]
    (tmp_path / "faq.yml").write_text(yaml.safe_dump(faq, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="duplicate ids"):
        load_entries(tmp_path)
    terms = yaml.safe_load((tmp_path / "terms.yml").read_text(encoding="utf-8"))
    terms["entries"][0]["level"] = 4
    (tmp_path / "terms.yml").write_text(yaml.safe_dump(terms, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="level"):
        load_entries(tmp_path)


def test_new_entry_is_searchable_without_code_changes():
    entries = load_entries()
    from dataclasses import replace

    extra = replace(
        entries[-1],
        id="faq.gift_wrap",
        title="可以礼品包装吗？",
        question="可以礼品包装吗？",
        paraphrases=(
            "能包装成礼物吗",
            "送人用的能包一下吗",
            "有礼盒吗",
            "礼品包装收费吗",
            "可以帮忙包装吗",
        ),
        aliases=("礼品包装",),
        answer="亲，可以免费礼品包装。",
        explanation="亲，可以免费礼品包装。",
    )
    kb = KnowledgeBase([*entries, extra])
    assert kb.search("送朋友的能帮我包成礼物吗", 1)[0].entry.id == "faq.gift_wrap"


def test_generated_nlu_examples_are_up_to_date():
    from dianxiaoer.rasa_plugins import knowledge_nlu

    assert knowledge_nlu.main(["--check"]) == 0, "run `make data` and commit data/nlu/knowledge.yml"


@pytest.mark.skipif(not kb_report.seeds_dir().exists(), reason="seed documents not present")
def test_every_seed_item_is_covered():
    text, missing = kb_report.report()
    assert missing == 0, text
    assert "107 source items" in text


# --------------------------------------------------------------- issue 16: everyday questions

#: FAQ entries added for shoppers' everyday pre-sale and logistics questions (issue 16).
EVERYDAY = (
    "faq.bargain",
    "faq.promotions",
    "faq.coupon_claim",
    "faq.huabei_refund",
    "faq.gifts",
    "faq.shelf_life",
    "faq.delivery_reschedule",
    "faq.courier_unreachable",
    "faq.signed_not_received",
    "faq.damaged_parcel",
    "faq.missing_item",
    "faq.wrong_item",
    "faq.used_item",
)


@pytest.mark.parametrize("entry_id", EVERYDAY)
def test_everyday_entries_have_enough_paraphrases_and_heldout(entry_id):
    entry = KB.by_id[entry_id]
    # enough to be learnt, not so many that the FAQ crowds out the other intents
    assert 8 <= len(entry.paraphrases) <= 20
    assert 3 <= len(HELDOUT[entry_id]) <= 5


@pytest.mark.parametrize(
    "question, expected",
    [
        ("老板少算点钱吧", "faq.bargain"),
        ("现在店铺满减活动是怎样的", "faq.promotions"),
        ("新人券领取失败", "faq.coupon_claim"),
        ("花呗分期的东西退掉了手续费怎么办", "faq.huabei_refund"),
        ("下单送不送赠品", "faq.gifts"),
        ("零食的生产日期是几号", "faq.shelf_life"),
        ("这周末家里没人 下周一再送可以吗", "faq.delivery_reschedule"),
        ("派件员电话一直打不通", "faq.courier_unreachable"),
        ("物流显示签收了我没收到", "faq.signed_not_received"),
        ("快递外包装破了还签不签", "faq.damaged_parcel"),
        ("收到的货少了个配件", "faq.missing_item"),
        ("收到的颜色发错了", "faq.wrong_item"),
        ("新买的东西有使用痕迹", "faq.used_item"),
        ("顺丰需要补差价吗", "faq.couriers"),
        ("寄到沈阳几天能到", "faq.delivery_time"),
        ("退货可以运费到付吗", "faq.return_shipping_fee"),
        ("价保要怎么申请", "faq.price_protection"),
        ("收件人手机号能改吗", "faq.change_address"),
        ("防伪码在哪里查", "faq.authenticity"),
    ],
)
def test_everyday_questions(question, expected):
    assert KB.search(question, 1)[0].entry.id == expected


def _answer(entry_id: str) -> str:
    return KB.by_id[entry_id].answer.format(**get_policy().reply_values())


def test_everyday_answers_quote_the_policy_figures():
    policy = get_policy()
    couriers = _answer("faq.couriers")
    assert policy["shipping.express_courier"] in couriers
    assert f"{policy['shipping.express_surcharge_yuan']}元" in couriers
    delivery = _answer("faq.delivery_time")
    for region in policy["shipping.delivery_days_by_region"]:
        assert f"{region['region']}{region['days']}天" in delivery
    fees = _answer("faq.return_shipping_fee")
    for item in policy["returns.shipping_fee_by_reason"].values():
        assert item["reason"] in fees
    assert policy["returns.freight_collect"] in fees
    assert f"最多{policy['returns.shipping_reimburse_max_yuan']}元" in fees
    protection = _answer("faq.price_protection")
    assert f"{policy['price_protection.days']}天内" in protection
    assert policy["price_protection.claim"] in protection
    promotions = _answer("faq.promotions")
    for tier in policy["promotions.full_reduction"]:
        assert f"满{tier['over']}减{tier['cut']}" in promotions
    missing = _answer("faq.missing_item")
    assert f"{policy['reissue.report_within_days']}天内" in missing
    assert f"{policy['reissue.missing_part_days']}天内" in missing
    signed = _answer("faq.signed_not_received")
    assert f"{policy['delivery.signed_not_received_report_hours']}小时内" in signed
    assert policy["delivery.signed_not_received_remedy"] in signed


def test_no_faq_answer_uses_a_forbidden_phrase():
    forbidden = get_policy()["complaints.forbidden_phrases"]
    for e in (e for e in ENTRIES if e.kind == "faq"):
        assert not [p for p in forbidden if p in e.answer], e.id


def _policy_data():
    return yaml.safe_load((PROJECT_ROOT / "config" / "policy.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["returns"]["shipping_fee_by_reason"].pop("wrong_item"), "wrong_item"),
        (
            lambda d: d["returns"]["shipping_fee_by_reason"]["no_reason"].update(payer="店铺"),
            "no_reason_shipping_payer",
        ),
        (lambda d: d["shipping"].update(express_courier="京东"), "express_courier"),
        (
            lambda d: d["shipping"]["delivery_days_by_region"].append({"region": "海外"}),
            "delivery_days_by_region",
        ),
        (
            lambda d: d["shipping"]["delivery_days_by_region"][0].update(days="一两"),
            "delivery_days_by_region",
        ),
        (lambda d: d["promotions"]["full_reduction"].reverse(), "full_reduction"),
        (
            lambda d: d["promotions"]["full_reduction"][0].update(cut=500),
            "full_reduction",
        ),
        (lambda d: d["reissue"].update(missing_part_days=0), "missing_part_days"),
        (lambda d: d["delivery"].pop("remark_before"), "remark_before"),
        (lambda d: d["coupons"].update(new_customer_coupon_yuan=100), "new-customer coupon"),
        (lambda d: d["reissue"].update(evidence=[]), "reissue.evidence"),
    ],
)
def test_policy_facts_of_the_faq_are_validated(tmp_path, mutate, message):
    from dianxiaoer.core.policy import PolicyError, load_policy

    data = _policy_data()
    mutate(data)
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_grouped_return_fees_follow_the_policy(tmp_path):
    from dianxiaoer.core.policy import load_policy

    data = _policy_data()
    data["returns"]["shipping_fee_by_reason"]["wrong_item"]["payer"] = "买家"
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    text = load_policy(path).reply_values()["return_fee_by_reason"]
    assert "拍错）、发错货由买家承担" in text and "质量问题、运输损坏由店铺承担" in text
