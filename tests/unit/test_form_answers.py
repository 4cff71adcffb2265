"""Free-text form answers recognised by their shape (dianxiaoer.shop.form_answers)."""

import pytest

from dianxiaoer.shop.form_answers import answer_for, is_question, looks_like_address


@pytest.mark.parametrize(
    "text",
    [
        "上海市浦东新区张江路88弄3号602 王磊 13800001234",
        "广东省深圳市南山区科技园南区 陈女士收",
        "杭州西湖区文三路100号",
        "成都市武侯区天府大道北段1700号 环球中心",
        "台北市信義區松仁路100號",
    ],
)
def test_addresses_are_taken_whatever_the_intent(text):
    assert looks_like_address(text)
    assert answer_for("new_address", text, "ask_shipping_policy", 0.9) == text


@pytest.mark.parametrize(
    "text",
    ["地址改到哪里都可以吗", "能改成公司地址吗？", "我不知道", "好的", "12345678"],
)
def test_questions_and_non_addresses_are_not_taken(text):
    assert answer_for("new_address", text, "ask_shipping_policy", 0.9) is None


def test_sure_exits_leave_the_form_whatever_the_shape():
    assert answer_for("feedback_comment", "不用了 谢谢", "thank", 0.8) is None
    assert answer_for("feedback_comment", "没有", "deny", 0.95) is None
    assert answer_for("new_address", "北京市朝阳区建国路88号", "request_human", 0.9) is None
    # an unsure exit does not throw away a real answer
    assert answer_for("feedback_comment", "包装可以再结实一点", "deny", 0.3) == "包装可以再结实一点"


def test_comments_and_reasons_are_any_statement():
    assert answer_for("feedback_comment", "包装可以再结实一点", "ask_shipping_policy", 0.86)
    assert answer_for("return_reason", "颜色和图片差太多", "ask_faq", 0.7)
    assert answer_for("feedback_comment", "包装能不能结实点？", "ask_shipping_policy", 0.8) is None
    assert answer_for("feedback_comment", "/deny", None, 1.0) is None


def test_invoice_titles():
    assert answer_for("invoice_title", "杭州某某科技有限公司", "ask_faq", 0.9)
    assert answer_for("invoice_title", "个人", "ask_faq", 0.9)
    assert answer_for("invoice_title", "张伟", "inform", 0.4)
    assert answer_for("invoice_title", "发票什么时候能开好", "ask_faq", 0.9) is None


@pytest.mark.parametrize("text", ["在吗", "怎么退", "包邮吗？", "請問幾天到", "有没有优惠"])
def test_questions(text):
    assert is_question(text)


@pytest.mark.parametrize("text", ["包装可以再结实一点", "客服态度挺好的", "北京市海淀区"])
def test_statements(text):
    assert not is_question(text)
