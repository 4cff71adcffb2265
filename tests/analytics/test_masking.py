"""The one masker of personal data (dianxiaoer.core.privacy) on realistic messages.

What a shopper types: addresses in both scripts, names after cues and before 先生/女士,
mobiles and landlines in every spacing, phone tails, order numbers, e-mail, ID and bank
cards. What must stay: the question itself, ticket numbers, hotlines, sizes, prices,
dates, a city or district on its own.
"""

from __future__ import annotations

import pytest

from dianxiaoer.core.privacy import PLACEHOLDERS, Masker, mask, mask_metrics

MASKED = [
    # addresses (simplified)
    ("我住在北京市朝阳区建国路88号3栋2单元501", "我住在<地址>"),
    ("收货地址：上海市浦东新区世纪大道 100 号，收件人张伟", "收货地址：<地址>，收件人<姓名>"),
    ("地址改成广州市天河区天河路1号", "地址改成<地址>"),
    (
        "请帮我把地址改成杭州市西湖区文三路478号华星时代广场A座1001室",
        "请帮我把地址改成<地址>",
    ),
    (
        "订单202611010001的收货地址改成上海市徐汇区漕溪北路 201 号",
        "订单<订单号>的收货地址改成<地址>",
    ),
    ("寄到：广东省深圳市南山区科技园南区深南大道10000号腾讯大厦", "寄到：<地址>"),
    ("麻烦改到浦东新区张江镇祖冲之路1号", "麻烦改到<地址>"),
    ("我家在阳光花园3号楼2单元 1202", "我家在<地址>"),
    ("放在3栋2单元门口", "放在<地址>门口"),
    ("送到建国路", "送到<地址>"),
    ("住在阳光小区", "住在<地址>"),
    ("地址是望京SOHO T1 2201，帮我改一下", "地址是<地址>，帮我改一下"),
    ("地址：北京市朝阳区建国路88号可以吗", "地址：<地址>可以吗"),
    # addresses (traditional)
    ("我住在臺北市信義區信義路五段7號", "我住在<地址>"),
    ("送貨地址：新北市板橋區文化路一段100巷5弄3號4樓", "送貨地址：<地址>"),
    ("我叫陳大文，地址係九龍旺角彌敦道 688 號", "我叫<姓名>，地址係<地址>"),
    # names
    ("收件人王小明 13812345678", "收件人<姓名> <手机号>"),
    ("我叫王小明，收件人：李娜", "我叫<姓名>，收件人：<姓名>"),
    ("我叫王明电话13812345678", "我叫<姓名>电话<手机号>"),
    ("收件人改成王芳", "收件人改成<姓名>"),
    ("联系人：欧阳娜娜", "联系人：<姓名>"),
    ("我是张伟", "我是<姓名>"),
    ("我是李娜，想查一下订单", "我是<姓名>，想查一下订单"),
    ("我姓王", "我姓<姓名>"),
    ("免贵姓陈", "免贵姓<姓名>"),
    ("王先生您好", "<姓名>先生您好"),
    ("王小明先生", "<姓名>先生"),
    ("麻烦李女士签收", "麻烦<姓名>女士签收"),
    ("欧阳娜娜女士您好", "<姓名>女士您好"),
    ("13812345678王小明", "<手机号><姓名>"),
    ("王小明 138-1234-5678 北京市海淀区中关村大街1号", "<姓名> <手机号> <地址>"),
    (
        "請問我的訂單202611010003可以退貨嗎？收件人是陳小美",
        "請問我的訂單<订单号>可以退貨嗎？收件人是<姓名>",
    ),
    ("收件人：張偉，電話：0912345678", "收件人：<姓名>，電話：<电话>"),
    ("聯絡人黃大仙", "聯絡人<姓名>"),
    ("my name is John Smith", "my name is <姓名>"),
    # phones
    ("手机13912345678", "手机<手机号>"),
    ("我的手机号是138 1234 5678，尾号5678", "我的手机号是<手机号>，尾号<尾号>"),
    ("电话 +86 139-1234-5678 找我", "电话 <手机号> 找我"),
    ("+8613912345678", "<手机号>"),
    ("座机0571-88880000", "座机<电话>"),
    ("联系电话010-62345678转123", "联系电话<电话>"),
    ("打(021)62345678", "打<电话>"),
    ("手机尾号5678", "手机尾号<尾号>"),
    ("尾號 5678", "尾號 <尾号>"),
    ("手机后四位是5678", "手机后四位是<尾号>"),
    # order, tracking, other numbers
    ("我的订单202406150001到哪了", "我的订单<订单号>到哪了"),
    ("订单２０２６１１０１０００１到哪了", "订单<订单号>到哪了"),
    (
        "我要退货，单号是202611010003，手机后四位是5678",
        "我要退货，单号是<订单号>，手机后四位是<尾号>",
    ),
    ("亲，我的快递到哪了 单号 YT9876543210987", "亲，我的快递到哪了 单号 <运单号>"),
    ("运单 7712345678901", "运单 <运单号>"),
    ("会员号 8812345", "会员号 <号码>"),
    # e-mail, ID card, bank card
    ("发到 me@example.com 吧", "发到 <邮箱> 吧"),
    ("邮箱ZhangWei@qq.com", "邮箱<邮箱>"),
    ("发票发到ｚｈａｎｇ＠１６３．ｃｏｍ", "发票发到<邮箱>"),
    ("身份证110101199003071234", "身份证<身份证号>"),
    ("我的身份证号是11010119900307123X", "我的身份证号是<身份证号>"),
    ("卡号6222 0212 3456 7890 123", "卡号<银行卡号>"),
    ("银行卡6222021234567890", "银行卡<银行卡号>"),
]

KEPT = [
    "2026年买的1299元的耳机，XL码2件",
    "我是想问一下运费",
    "我是新用户",
    "我是黄金会员",
    "我是王老师的学生",
    "这个东西怎么弄",
    "能寄到国外吗",
    "能寄到新疆吗",
    "寄到北京市朝阳区可以吗",
    "我住在上海",
    "我的地址是上海",
    "地址怎么改",
    "收货地址可以改吗",
    "退货地址是什么",
    "联系人方式是什么",
    "谢谢先生",
    "11月11号能发货吗",
    "42号的鞋有货吗",
    "学校走路要多久",
    "小区门口放着就行",
    "快递放在菜鸟驿站",
    "我明天在家，送到楼下就行",
    "这个充电宝是20000mAh的吗",
    "投诉单号TS20261125123456进度怎么样",
    "售后单SH20261125654321",
    "退货单RMA20261125000123",
    "客服热线400-820-8820",
    "運費怎麼算？",
    "",
]


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_personal_data_is_masked(text, masked):
    assert mask(text) == masked


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_text_is_kept(text):
    assert mask(text) == text


@pytest.mark.parametrize("text", [t for t, _ in MASKED] + KEPT)
def test_masking_twice_changes_nothing(text):
    once = mask(text)
    assert mask(once) == once


def test_the_question_survives_for_labelling():
    # what an intent classifier keys on is still there
    masked = mask(
        "我的订单202611010002到哪了？手机尾号1234，收件人张伟，寄到北京市朝阳区建国路88号"
    )
    assert masked == "我的订单<订单号>到哪了？手机尾号<尾号>，收件人<姓名>，寄到<地址>"
    for word in ("订单", "到哪了", "尾号", "收件人", "寄到"):
        assert word in masked


def test_known_names_and_placeholders_in_the_input():
    masker = Masker(["张伟", "欧阳娜娜"])
    assert masker("帮张伟查下，欧阳娜娜的也查") == "帮<姓名>查下，<姓名>的也查"
    # a placeholder typed by someone (or masked before) is kept whole
    assert mask("寄到<地址>，<姓名>先生收") == "寄到<地址>，<姓名>先生收"
    # private-use characters (used while masking) cannot smuggle anything in
    assert mask("\ue000\ue100订单202611010001") == "订单<订单号>"


def test_placeholders_are_distinct():
    assert len(set(PLACEHOLDERS)) == len(PLACEHOLDERS)
    assert all(mask(p) == p for p in PLACEHOLDERS)


def test_mask_metrics_masks_the_texts_customers_wrote():
    metrics = {
        "unanswered": {
            "messages": 2,
            "groups": [{"text": "寄到建国路88号3栋", "count": 2, "examples": ["我叫王小明"]}],
        },
        "returns": {
            "by_reason": {"尺码不合适": 2, "收件人李娜，寄错了": 1, "收件人张伟，寄错了": 1}
        },
        "intents": [{"intent": "ask_faq", "count": 3}],
        "filters": {"since": "2026-11-01"},
    }
    out = mask_metrics(metrics)
    assert out["unanswered"]["groups"][0]["text"] == "寄到<地址>"
    assert out["unanswered"]["groups"][0]["examples"] == ["我叫<姓名>"]
    assert out["returns"]["by_reason"] == {"尺码不合适": 2, "收件人<姓名>，寄错了": 2}
    # the rest untouched, the input not changed
    assert out["intents"] == metrics["intents"] and out["filters"] == metrics["filters"]
    assert metrics["returns"]["by_reason"]["收件人李娜，寄错了"] == 1


def test_every_export_is_masked(stores, tmp_path):
    """The review export, the metrics (report and analytics API) and the report files."""
    import json

    from sqlalchemy import update

    from dianxiaoer.analytics.metrics import compute_metrics
    from dianxiaoer.analytics.report import write_report
    from dianxiaoer.analytics.review import export_review
    from dianxiaoer.store.db import session_scope
    from dianxiaoer.store.models import ReturnRequest

    # (no short digit strings: the report embeds PNGs as base64)
    secrets = ("建国路", "88号", "王小明", "13812345678", "李娜")
    log = tmp_path / "unanswered.jsonl"
    log.write_text(
        json.dumps(
            {
                "time": "2026-11-02T10:00:00+08:00",
                "sender_id": "x-addr",
                # written raw, as before masking existed
                "text": "寄到北京市朝阳区建国路88号3栋2单元501，收件人王小明 13812345678",
                "intent": "ask_faq",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "review.yml"
    export_review(out, tracker=stores.tracker, shop=stores.shop, log_path=log)
    review = out.read_text(encoding="utf-8")
    assert "寄到<地址>，收件人<姓名> <手机号>" in review
    assert "<地址>" in review.split("Personal data is masked:")[1].splitlines()[0]

    # a return reason typed by the customer
    with session_scope(stores.shop) as session:
        session.execute(
            update(ReturnRequest)
            .where(ReturnRequest.rma == stores.numbers["rma"])
            .values(reason="收件人李娜寄错了，电话13812345678")
        )
    metrics = compute_metrics(tracker=stores.tracker, shop=stores.shop)
    assert metrics["returns"]["by_reason"] == {"收件人<姓名>寄错了，电话<手机号>": 1}
    paths = write_report(metrics, tmp_path / "report")
    for path in (paths["metrics"], paths["html"], out):
        text = path.read_text(encoding="utf-8")
        for secret in secrets:
            assert secret not in text, (path.name, secret)


@pytest.mark.parametrize(
    "text",
    ["1" * 20000, "一" * 20000, "１２" * 5000, "寄到建国路" * 3000, "北京市建国路1号，" * 2000],
)
def test_long_inputs_take_linear_time(text):
    import time

    started = time.perf_counter()
    mask(text)
    assert time.perf_counter() - started < 1.0


def test_every_placeholder_has_a_stand_in_that_it_masks():
    """merge-reviewed turns placeholders into stand-ins; masking gives them back."""
    from dianxiaoer.analytics.review import STAND_INS
    from dianxiaoer.core.privacy import NAME

    assert set(STAND_INS) == set(PLACEHOLDERS)
    for placeholder, stand_in in STAND_INS.items():
        if placeholder == NAME:
            assert mask(f"我叫{stand_in}") == f"我叫{NAME}"
        else:
            assert mask(stand_in) == placeholder, stand_in


def test_a_shops_own_order_numbers_are_masked_as_order_numbers(use_shop_order_numbers):
    """The order-number format is the shop's policy (orders.id_pattern), not 12 digits."""
    assert Masker()("订单QH20261201001到哪了") == "订单<运单号>到哪了"  # not this shop's format
    use_shop_order_numbers()
    masker = Masker()
    assert masker("订单QH20261201001到哪了") == "订单<订单号>到哪了"
    # a courier's number stays a tracking number; a 12-digit run is no order number here
    assert masker("运单SF1234567890123") == "运单<运单号>"
    assert masker("202611010001") == "<号码>"
