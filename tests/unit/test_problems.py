"""Problem reports are recognised by kind, in both scripts and in shoppers' wording."""

from __future__ import annotations

import re

import pytest
import yaml

from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.shop.problems import KINDS, problem_kind, response_for


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("买的卫衣洗了一回就缩水了 穿不上了", "shrinking"),
        ("牛仔裤第一次洗就掉色 把别的衣服都染了", "fading"),
        ("保温杯漏水啊 包里全湿了", "leaking"),
        ("收到的T恤上面有一块污渍", "stain"),
        ("拖鞋一股刺鼻的味道 放阳台两天了还有", "smell"),
        ("耳机充不进电 一点反应都没有", "broken"),
        ("台燈用了兩天就不亮了", "broken"),
        ("盒子里少了一根数据线", "missing_part"),
        ("买了两双袜子只收到一双", "missing_part"),
        ("我买的是黑色的 你们发错成白色了", "wrong_item"),
        ("收到的鞋子明显是被人穿过的 鞋底都脏了", "used_item"),
        ("这个是不是假货啊 防伪码查不到", "counterfeit"),
        ("物流三天没更新了 卡在转运中心", "stalled"),
        ("付款四天了还没发货", "not_shipped"),
        ("快递怎么还没到 都一个礼拜了", "slow"),
        ("明明显示签收了可我根本没收到", "signed_not_received"),
        ("快递箱子都压扁了 里面杯子不知道有没有事", "damaged_parcel"),
        ("我昨天刚买今天就降价了二十块", "price_drop"),
        ("付款的时候扣了两次钱", "wrong_charge"),
        ("新买的毛巾一股消毒水味 洗了还有", "smell"),
        ("这批饼干受潮了 一点都不脆", "taste"),
        ("坚果有哈喇味了吧", "taste"),
        ("详情页写的纯棉 实物跟描述不一样", "not_as_described"),
        ("电热壶水烧不开 一直咕噜咕噜", "broken"),
        ("平板屏幕黑屏 按键凹陷下去了", "broken"),
        ("你们少寄了一包", "missing_part"),
        ("收到的颜色跟我选的不一样", "wrong_item"),
        ("三天了还在揽收 是不是没发啊", "stalled"),
        ("订单一直是出库状态 没动静", "stalled"),
        ("寄来的桃子一半都烂了", "spoiled"),
        ("芒果收到就是烂的", "spoiled"),
        ("靴子码数和实际不符 小了一码", "not_as_described"),
        ("收到的颜色和实物不符", "not_as_described"),
    ],
)
def test_problem_kinds(text, kind):
    assert problem_kind(text) == kind


@pytest.mark.parametrize(
    "text", ["我的订单到哪了", "想退货 不想要了", "你好", "", None, "能开发票吗"]
)
def test_no_problem_no_kind(text):
    assert problem_kind(text) is None


def test_every_kind_has_a_reply_with_known_placeholders():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    from dianxiaoer.core.policy import get_policy

    values = get_policy().reply_values()
    for kind in KINDS:
        variations = domain["responses"][response_for(kind)]
        assert len(variations) >= 2, kind
        for variation in variations:
            names = set(re.findall(r"{(\w+)}", variation["text"]))
            assert names <= set(values), (kind, names - set(values))
            variation["text"].format(**values)
    with pytest.raises(ValueError):
        response_for("nonsense")
