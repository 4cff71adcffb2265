"""Free-text answers to a form's question, recognised by their shape rather than by intent.

A form that asks for a new address, a rating comment, a return reason or an invoice title
takes the customer's next message as the answer unless the intent classifier says it is
something else (a question, "不用了", a request for a human). Real answers are often
misread: "北京市海淀区中关村大街1号 李娜 收" looks like a shipping question to the
classifier, "包装可以再结实一点" too. These rules let an answer of the right shape through
whatever the intent, while a question, a refusal or a request for a person still leaves
the form to the rules that handle them.
"""

from __future__ import annotations

import re

from dianxiaoer.core.text import to_simplified

# Intents that end or interrupt the form whatever the message looks like, when the
# classifier is reasonably sure of them.
EXIT_INTENTS = frozenset(
    {"deny", "request_human", "goodbye", "thank", "greet", "file_complaint", "express_churn"}
)
EXIT_CONFIDENCE = 0.5

_QUESTION_END = re.compile(r"(?:[?？]|[吗么嘛呢啊呀][?？!！。~～\s]*)$")
_QUESTION_WORD = re.compile(
    r"(?:请问|怎么|怎样|咋|为什么|为啥|干嘛|多久|多少|几天|几号|哪里|哪儿|哪个|什么时候|"
    r"能不能|可不可以|是不是|有没有|会不会|要不要)"
)
# Parts of a Chinese address: administrative divisions, streets, buildings, rooms.
_ADDRESS_PART = re.compile(
    r"(?:省|自治区|市|区|县|旗|镇|乡|村|街道|大街|路|街|道|巷|弄|胡同|号|号楼|栋|幢|座|"
    r"单元|楼|层|室|小区|花园|公寓|大厦|广场|中心|园区|校区|宿舍)"
)
_DIGITS = re.compile(r"\d")
_ORGANISATION = re.compile(
    r"(?:公司|有限公司|集团|工作室|事务所|中心|学校|大学|学院|医院|研究所|协会|商行|店|厂|"
    r"合作社|银行|政府|委员会|个人)$"
)


def is_question(text: str) -> bool:
    """Whether the message asks something (question mark, final particle or wh-word)."""
    simple = to_simplified(text or "").strip()
    return bool(_QUESTION_END.search(simple) or _QUESTION_WORD.search(simple))


def looks_like_address(text: str) -> bool:
    """At least two address parts, or one with a house number, in six or more characters."""
    simple = to_simplified(text or "").strip()
    if len(simple) < 6:
        return False
    parts = _ADDRESS_PART.findall(simple)
    return len(parts) >= 2 or (len(parts) == 1 and bool(_DIGITS.search(simple)))


def looks_like_invoice_title(text: str) -> bool:
    """An organisation's name (ends like one), "个人", or a short personal name."""
    simple = to_simplified(text or "").strip()
    first = simple.split()[0] if simple.split() else ""
    return bool(_ORGANISATION.search(first)) or 2 <= len(simple) <= 4


def answer_for(slot: str, text: str, intent: str | None, confidence: float) -> str | None:
    """The message as the value of `slot` if it has that answer's shape, else None.

    `intent`/`confidence` are the classifier's reading; only exits it is sure of, and
    questions, keep a message from being taken as the answer.
    """
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return None
    if intent in EXIT_INTENTS and confidence >= EXIT_CONFIDENCE:
        return None
    if is_question(text):
        return None
    if slot == "new_address":
        return text if looks_like_address(text) else None
    if slot == "invoice_title":
        return text if looks_like_invoice_title(text) else None
    if slot in ("feedback_comment", "return_reason"):
        # any statement: a comment or a reason has no fixed shape
        return text
    return None
