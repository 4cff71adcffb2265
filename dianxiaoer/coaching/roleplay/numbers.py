"""Numbers and dates as a trainee types them: "20元", "七天", "11月23日00:00", "22日24点".

`_dates` finds the dates (with times) a reply mentions and blanks them out, so that
`_numbers` does not read the day of a date as an amount; `_means` tells whether a
mention names a given moment. Chinese numerals count only with a unit ("七天"), since
a bare one is mostly part of a word ("一下", "十分").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from dianxiaoer.core.service_hours import SHANGHAI

_UNIT_ALIASES = {"个小时": "小时", "个工作日": "工作日"}
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMBER = re.compile(
    r"(?<![0-9A-Za-z.第])(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)\s*"
    r"(个工作日|工作日|个小时|小时|天|日|元|块|件|单|笔)?"
)
_DATE = re.compile(
    r"(?:(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"|(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?"
    r"|(?<![\d月/.\-])(?P<d3>\d{1,2})\s*号)"
    r"(?:\s*(?P<ampm>凌晨|早上|上午|中午|下午|晚上)?\s*"
    r"(?:(?P<hh>\d{1,2})\s*:\s*(?P<mm>\d{2})"
    r"|(?P<h2>\d{1,2})\s*[点时](?:\s*(?P<m3>\d{1,2})\s*分)?"
    r"|(?P<zero>零点|零时)))?"
)
_CLOCK = re.compile(r"\d{1,2}\s*:\s*\d{2}")


def _chinese_number(word: str) -> int | None:
    total, digit = 0, None
    for char in word:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[char]
            digit = None
        else:
            return None
    return total + (digit or 0)


@dataclass(frozen=True)
class _Mention:
    """A date as said: the year and month may be left out, and the time."""

    year: int | None
    month: int | None
    day: int
    hour: int | None
    minute: int


def _mask(text: str, spans) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _dates(text: str) -> tuple[list[_Mention], str]:
    """Dates (with times) mentioned, and the text with them blanked out for numbers."""
    mentions, spans = [], []
    for match in _DATE.finditer(text):
        g = match.groupdict()
        hour = g["hh"] or g["h2"]
        hour = 0 if g["zero"] else int(hour) if hour else None
        if hour is not None and g["ampm"] in {"下午", "晚上"} and hour < 12:
            hour += 12
        minute = int(g["mm"] or g["m3"] or 0)
        mentions.append(
            _Mention(
                int(g["y"]) if g["y"] else None,
                int(g["m"] or g["m2"]) if (g["m"] or g["m2"]) else None,
                int(g["d"] or g["d2"] or g["d3"]),
                hour,
                minute,
            )
        )
        spans.append(match.span())
    masked = _mask(text, spans)
    return mentions, _mask(masked, [m.span() for m in _CLOCK.finditer(masked)])


def _resolve(mention: _Mention, reference: datetime) -> datetime | None:
    """The moment a mention means, filling a missing year/month from `reference`."""
    try:
        moment = datetime(
            mention.year or reference.year,
            mention.month or reference.month,
            mention.day,
            tzinfo=SHANGHAI,
        )
    except ValueError:
        return None
    if mention.hour is None:
        return moment
    if mention.hour == 24:  # "22日24点" is 23日 00:00
        return moment + timedelta(days=1, minutes=mention.minute)
    if mention.hour > 23 or mention.minute > 59:
        return None
    return moment.replace(hour=mention.hour, minute=mention.minute)


def _means(mention: _Mention, moment: datetime, exact: bool) -> bool:
    """Whether a mention names `moment`.

    A deadline at 00:00 may be said as 23:59 or 24点 of the day before, or, without a
    time, as either day.
    """
    local = moment.astimezone(SHANGHAI)
    said = _resolve(mention, local)
    if said is None:
        return False
    before = local - timedelta(minutes=1)
    if mention.hour is None or not exact:
        return said.date() in {local.date(), before.date()}
    return said in {local, before}


def _numbers(text: str) -> list[tuple[float, str, tuple[int, int]]]:
    """Amounts mentioned: value, unit (aliases merged, "" if none) and span."""
    found = []
    for match in _NUMBER.finditer(text):
        raw, unit = match.group(1), match.group(2) or ""
        if raw[0].isdigit():
            value = float(raw)
        else:
            if not unit:  # a bare Chinese numeral is mostly a word ("一下", "十分")
                continue
            parsed = _chinese_number(raw)
            if parsed is None:
                continue
            value = float(parsed)
        found.append((value, _UNIT_ALIASES.get(unit, unit), match.span()))
    return found
