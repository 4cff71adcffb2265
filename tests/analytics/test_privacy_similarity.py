"""Masking of personal data and grouping of similar questions."""

from __future__ import annotations

import pytest

from dianxiaoer.analytics.similarity import bigrams, dice, group_similar
from dianxiaoer.core.privacy import Masker, mask


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("订单202611010001到哪了", "订单<订单号>到哪了"),
        ("订单２０２６１１０１０００１到哪了", "订单<订单号>到哪了"),  # full-width digits
        ("手机13912345678", "手机<手机号>"),
        ("电话 +86 139-1234-5678 找我", "电话 <手机号> 找我"),
        ("尾号5678", "尾号<尾号>"),
        ("单号SF1234567890123查一下", "单号<运单号>查一下"),
        ("运单 7712345678901", "运单 <运单号>"),
        ("座机0571-88880000", "座机<电话>"),
        ("发到 me@example.com 吧", "发到 <邮箱> 吧"),
        ("我叫王小明，收件人：李娜", "我叫<姓名>，收件人：<姓名>"),
        ("my name is John Smith", "my name is <姓名>"),
        # not personal: years, prices, sizes, everyday phrases
        ("2026年买的1299元的耳机，XL码2件", "2026年买的1299元的耳机，XL码2件"),
        ("我是想问一下运费", "我是想问一下运费"),
        ("我是新用户", "我是新用户"),
    ],
)
def test_mask(text, masked):
    assert mask(text) == masked


def test_known_customer_names_are_masked_anywhere():
    masker = Masker(["张伟", "欧阳娜娜", "x"])
    assert masker("帮张伟查下，欧阳娜娜的也查") == "帮<姓名>查下，<姓名>的也查"
    assert masker("x") == "x"  # one-character "names" are ignored


def test_dice_and_bigrams():
    assert bigrams("運費怎麼算？") == bigrams("运费怎么算")  # script and punctuation ignored
    assert dice(bigrams("运费怎么算"), bigrams("运费怎么算")) == 1.0
    assert dice(bigrams("你好"), bigrams("退货")) == 0.0


def test_group_similar():
    groups = group_similar(
        {
            "能寄到国外吗": 3,
            "我的订单<订单号>能寄到国外吗": 1,
            "能寄到国外吗？？": 2,
            "你们老板是谁": 2,
            "老板是谁": 1,
            "好": 1,
        }
    )
    assert [g.as_dict() for g in groups] == [
        {
            "text": "能寄到国外吗",
            "count": 6,
            "distinct": 3,
            "examples": ["能寄到国外吗", "能寄到国外吗？？", "我的订单<订单号>能寄到国外吗"],
        },
        {
            "text": "你们老板是谁",
            "count": 3,
            "distinct": 2,
            "examples": ["你们老板是谁", "老板是谁"],
        },
        {"text": "好", "count": 1, "distinct": 1, "examples": ["好"]},
    ]
    assert group_similar({}) == []
