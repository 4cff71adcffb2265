"""Editing the FAQ and the policy values from the shop admin page (webapp/admin.py).

The shipped files (`knowledge/faq.yml`, `config/policy.yml`) are commented YAML meant to be
read by people, so edits never rewrite them: they go to override files the loaders merge
over them, each written atomically (a temporary file in the same folder, then a rename, so
a process that reloads never reads half a file):

- FAQ: SHOP_FAQ_OVERRIDES (knowledge/faq_shop.yml), faq.yml's schema; an entry with a
  shipped id replaces it, a new id adds one, `disabled: true` hides one (deleting is only
  disabling: the entry stays in the file and can be enabled again, and a shipped entry
  cannot vanish by a click);
- policy: SHOP_POLICY_OVERRIDES (config/policy_shop.yml), only the values the shop changed.

Every edit is validated by the loaders themselves (`load_entries`, `load_policy`) on the
file about to replace the current one, so the page accepts exactly what a process would
load. Answers may quote policy values only through known `{placeholders}`. Every change
is appended to the audit log (ADMIN_AUDIT_LOG, JSON lines).

Retraining: new or changed questions reach the intent model only at the next `make train`
(retrieval uses them at once). scripts/train.sh writes the FAQ questions' fingerprints
next to the model (`python -m dianxiaoer.knowledge.editor fingerprint PATH`); an entry
whose fingerprint differs "needs retraining".
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
import string
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from dianxiaoer.core.files import write_atomically
from dianxiaoer.core.policy import REQUIRED_KEYS, Policy, PolicyError, load_policy, merge_values
from dianxiaoer.core.settings import PROJECT_ROOT, get_settings
from dianxiaoer.core.text import to_simplified, to_traditional
from dianxiaoer.knowledge.base import (
    KNOWLEDGE_DIR,
    Entry,
    KnowledgeError,
    load_entries,
    load_overrides,
    parse_faq_entry,
)
from dianxiaoer.nlu.dataset import comparison_key

FAQ_FIELDS = ("id", "topic", "question", "answer", "aliases", "paraphrases")
#: The loader's minimum (dianxiaoer.knowledge.base); said in Chinese before the loader says it.
MIN_FAQ_PARAPHRASES = 5
#: Ids the page gives new entries when none is typed: faq.shop_1, faq.shop_2, …
NEW_ID_PREFIX = "faq.shop_"
_ID = re.compile(r"faq\.[a-z0-9_.]+")
OVERRIDES_HEADER = (
    "# The shop's own FAQ entries, written by the admin page (/admin): faq.yml's schema\n"
    "# (docs/knowledge.md); an entry with an id of faq.yml replaces it, `disabled: true`\n"
    "# hides an entry. Merged over knowledge/faq.yml when the knowledge base loads.\n"
)
POLICY_HEADER = (
    "# Policy values the shop changed on the admin page (/admin); merged over\n"
    "# config/policy.yml (whose comments explain every value) when the policy loads.\n"
)
_DIGIT = re.compile(r"\d")
_PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*\}")
#: Policy values that are regular expressions: their { } are repetition counts such as
#: \d{12}, not placeholders (the policy's own check compiles them).
PATTERN_KEYS = frozenset({"orders.id_pattern"})
# Reentrant: a writer of this process never waits for itself. Other processes (a second
# web app) are kept out by an flock on the file's folder (`_exclusive`).
_write_lock = threading.RLock()


class EditError(ValueError):
    """An edit the loaders would refuse; the message says why (shown on the page)."""


class UnknownEntry(EditError):
    """No FAQ entry has this id (the page answers 404 where the id is the resource)."""

    def __init__(self, entry_id: str) -> None:
        """The message names the id, in the page's words."""
        super().__init__(f"没有编号为 {entry_id} 的问答")


# --------------------------------------------------------------------------- files


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One read-modify-write of `path` at a time, across threads and processes.

    The flock is taken on the folder, not on a lock file, so no stray file appears next
    to the overrides (which shops commit); closing the descriptor releases it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _staged(path: Path, text: str) -> Path:
    """A temporary copy of what `path` is about to become (validated before the rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".check.yml", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    return Path(tmp)


# --------------------------------------------------------------------------- answers


def placeholder_errors(answer: str, known: Iterable[str]) -> list[str]:
    """What is wrong with the `{placeholders}` of `answer` (empty: it renders)."""
    known = set(known)
    try:
        parsed = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(answer)]
    except ValueError:
        return ["花括号不成对：占位符写作 {ship_hours}，其他地方不要用 { 或 }"]
    fields = [(f, spec, conv) for f, spec, conv in parsed if f is not None]
    errors = []
    for name in dict.fromkeys(f for f, _, _ in fields):
        if not name:
            errors.append("空的占位符 {}")
        elif name not in known:
            errors.append(f"未知的占位符 {{{name}}}")
    errors += [f"占位符 {{{f}}} 不能带格式说明" for f, spec, conv in fields if spec or conv]
    return errors


def render_answer(answer: str, values: dict[str, Any]) -> dict[str, Any]:
    """The answer as customers read it, in simplified and traditional characters.

    `errors` lists unknown or malformed placeholders (then nothing is rendered);
    `warnings` notes figures written as digits instead of policy placeholders.
    """
    answer = answer if isinstance(answer, str) else ""
    errors = placeholder_errors(answer, values)
    warnings = []
    literal = re.sub(r"\{[^{}]*\}", "", answer)
    if _DIGIT.search(literal):
        warnings.append(
            "答案里直接写了数字：政策数字请用占位符（如 {ship_hours}），改政策时才会一起变"
        )
    if errors:
        return {"simplified": None, "traditional": None, "errors": errors, "warnings": warnings}
    text = answer.format(**values)
    return {
        "simplified": text,
        "traditional": to_traditional(text),
        "errors": [],
        "warnings": warnings,
    }


# --------------------------------------------------------------------------- FAQ


def _lines(value: Any) -> list[str]:
    """A list from a list or from text with one item per line (the page's text areas)."""
    if value is None:
        return []
    items = value.splitlines() if isinstance(value, str) else value
    if not isinstance(items, list):
        raise EditError("列表字段应为每行一项的文本")
    return [str(v).strip() for v in items if str(v).strip()]


def clean_faq(raw: Any) -> dict[str, Any]:
    """The page's entry as it will be stored: known fields, text trimmed, lists cleaned."""
    if not isinstance(raw, dict):
        raise EditError("问答应为一个对象（id、topic、question、answer、paraphrases）")
    entry: dict[str, Any] = {}
    for key in ("id", "topic", "question", "answer"):
        value = raw.get(key)
        entry[key] = value.strip() if isinstance(value, str) else value
    entry["aliases"] = _lines(raw.get("aliases"))
    entry["paraphrases"] = _lines(raw.get("paraphrases"))
    return entry


def as_dict(entry: Entry) -> dict[str, Any]:
    """An FAQ entry in the file's schema."""
    return {
        "id": entry.id,
        "topic": entry.topic,
        "question": entry.question,
        "answer": entry.answer,
        "aliases": list(entry.aliases),
        "paraphrases": list(entry.paraphrases),
    }


def _reasons(entry: dict[str, Any]) -> list[str]:
    """The loader's FAQ rules, said in Chinese for the page (the loader has the last word)."""
    reasons = []
    if not isinstance(entry.get("id"), str) or not _ID.fullmatch(entry["id"]):
        reasons.append("编号须为 faq. 加小写字母、数字或下划线，如 faq.shop_gift_wrap")
    for key, name in (("question", "标准问题"), ("topic", "分类"), ("answer", "答案")):
        if not isinstance(entry.get(key), str) or not entry[key]:
            reasons.append(f"{name}不能为空")
    paraphrases = entry.get("paraphrases") or []
    if len(paraphrases) < MIN_FAQ_PARAPHRASES:
        reasons.append(
            f"至少要 {MIN_FAQ_PARAPHRASES} 个顾客问法（每行一个），现在 {len(paraphrases)} 个"
        )
    keys = [comparison_key(q) for q in [entry.get("question") or "", *paraphrases]]
    repeated = [q for q, k in zip(paraphrases, keys[1:], strict=True) if keys.count(k) > 1]
    if repeated:
        reasons.append("问法重复：" + "、".join(dict.fromkeys(repeated)))
    return reasons


def validate_faq(raw: Any, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(cleaned entry, errors) by the loader's rules and the answer's placeholders.

    The rules are said in Chinese first (`_reasons`); the loader (`parse_faq_entry`) then
    checks what they do not cover; placeholders are checked against the policy `values`.
    """
    try:
        entry = clean_faq(raw)
    except EditError as exc:
        return {}, [str(exc)]
    errors = _reasons(entry)
    if not errors:
        try:
            parse_faq_entry(entry, "faq_shop.yml")
        except KnowledgeError as exc:
            errors.append(str(exc))
    if isinstance(entry.get("answer"), str):
        errors += placeholder_errors(entry["answer"], values)
    return entry, errors


class FaqStore:
    """The shipped FAQ plus the shop's overrides file: read, search, save, disable."""

    def __init__(self, overrides: Path | None = None, directory: Path = KNOWLEDGE_DIR) -> None:
        """`overrides`: SHOP_FAQ_OVERRIDES unless given (tests)."""
        self.directory = directory
        self.overrides = overrides or get_settings().shop_faq_overrides

    def _override_docs(self) -> list[dict[str, Any]]:
        if not self.overrides.exists():
            return []
        load_overrides(self.overrides)  # refuse to build on a file the loader refuses
        doc = yaml.safe_load(self.overrides.read_text(encoding="utf-8")) or {}
        return list(doc.get("entries") or [])

    def _shipped(self) -> list[Entry]:
        return [e for e in load_entries(self.directory, overrides=None) if e.kind == "faq"]

    def entries(self) -> list[dict[str, Any]]:
        """Every FAQ entry as the page shows it, disabled ones too.

        `origin`: 出厂 (faq.yml as shipped), 已修改 (a shipped entry the shop edited) or
        新增 (the shop's own); `disabled` for hidden ones.
        """
        shipped = self._shipped()
        shipped_ids = {e.id for e in shipped}
        overrides = {d["id"]: d for d in self._override_docs()}
        rows = []
        for entry in shipped:
            doc = overrides.get(entry.id)
            row = clean_faq(doc) if doc else as_dict(entry)
            # a shipped entry only disabled (its text as shipped) is not "edited"
            edited = doc is not None and row != as_dict(entry)
            row["origin"] = "已修改" if edited else "出厂"
            row["disabled"] = bool(doc and doc.get("disabled"))
            rows.append(row)
        for key, doc in overrides.items():
            if key not in shipped_ids:
                row = clean_faq(doc)
                row.update(origin="新增", disabled=bool(doc.get("disabled")))
                rows.append(row)
        return rows

    def search(self, query: str = "") -> list[dict[str, Any]]:
        """Entries whose text contains `query` (traditional characters and case ignored).

        Searched: id, topic, question, paraphrases, aliases and answer.
        """
        wanted = to_simplified(query or "").strip().casefold()
        rows = self.entries()
        if not wanted:
            return rows
        return [r for r in rows if wanted in _haystack(r)]

    def get(self, entry_id: str) -> dict[str, Any] | None:
        """One entry as `entries()` shows it, else None."""
        return next((r for r in self.entries() if r["id"] == entry_id), None)

    def new_id(self) -> str:
        """The next free `faq.shop_<n>` (for an entry added without an id)."""
        taken = {r["id"] for r in self.entries()}
        numbers = [
            int(i.removeprefix(NEW_ID_PREFIX))
            for i in taken
            if i.startswith(NEW_ID_PREFIX) and i.removeprefix(NEW_ID_PREFIX).isdigit()
        ]
        return f"{NEW_ID_PREFIX}{max(numbers, default=0) + 1}"

    def save(
        self, raw: Any, values: dict[str, Any], is_new: bool
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Add (`is_new`) or edit an entry; (before, after). EditError when refused.

        A new entry without an id gets the next `faq.shop_<n>`; an edit keeps the
        entry's enabled/disabled state.
        """
        with _exclusive(self.overrides):
            if is_new and isinstance(raw, dict) and not str(raw.get("id") or "").strip():
                raw = {**raw, "id": self.new_id()}
            entry, errors = validate_faq(raw, values)
            if errors:
                raise EditError("；".join(errors))
            before = self.get(entry["id"])
            if is_new and before is not None:
                raise EditError(f"编号 {entry['id']} 已存在")
            if not is_new and before is None:
                raise UnknownEntry(entry["id"])
            after = {**entry, "disabled": bool(before and before["disabled"])}
            if before is None or {k: before[k] for k in FAQ_FIELDS} != entry:
                self._write(entry["id"], after)
            return before, self.get(entry["id"]) or after

    def set_disabled(self, entry_id: str, disabled: bool) -> tuple[dict, dict]:
        """Hide (or show again) an entry; (before, after). EditError for an unknown id."""
        with _exclusive(self.overrides):
            before = self.get(entry_id)
            if before is None:
                raise UnknownEntry(entry_id)
            if before["disabled"] != disabled:
                self._write(entry_id, {k: before[k] for k in FAQ_FIELDS} | {"disabled": disabled})
            after = self.get(entry_id)
            assert after is not None  # just written
            return before, after

    def revert(self, entry_id: str) -> tuple[dict, dict]:
        """A shipped entry back to faq.yml's text, enabled (its override removed).

        EditError for an unknown id or the shop's own entry (those can only be disabled).
        """
        with _exclusive(self.overrides):
            before = self.get(entry_id)
            if before is None:
                raise UnknownEntry(entry_id)
            if before["origin"] == "新增":
                raise EditError("店铺新增的问答没有出厂内容：不需要时请停用")
            docs = [d for d in self._override_docs() if d.get("id") != entry_id]
            self._replace(docs)
            after = self.get(entry_id)
            assert after is not None  # a shipped entry
            return before, after

    def _write(self, entry_id: str, doc: dict[str, Any]) -> None:
        stored = {k: doc[k] for k in FAQ_FIELDS}
        if doc.get("disabled"):
            stored["disabled"] = True
        docs = self._override_docs()
        index = next((i for i, d in enumerate(docs) if d.get("id") == entry_id), None)
        if index is None:
            docs.append(stored)
        else:
            docs[index] = stored
        self._replace(docs)

    def _replace(self, docs: list[dict[str, Any]]) -> None:
        """Validate the overrides file about to be written with the loader, then rename."""
        staged = _staged(self.overrides, OVERRIDES_HEADER + _yaml({"entries": docs}))
        try:
            load_entries(self.directory, overrides=staged)  # exactly the loader's rules
        except KnowledgeError as exc:
            staged.unlink(missing_ok=True)
            raise EditError(str(exc).replace(staged.name, self.overrides.name)) from exc
        os.replace(staged, self.overrides)


def _haystack(row: dict[str, Any]) -> str:
    parts = [row["id"], row.get("topic") or "", row.get("question") or "", row.get("answer") or ""]
    parts += row.get("paraphrases") or []
    parts += row.get("aliases") or []
    return to_simplified("\n".join(str(p) for p in parts)).casefold()


def collisions(entry: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """Questions of `entry` that another (enabled) entry asks as well.

    Not refused (the shipped FAQ may share a phrase), but the NLU generator keeps such an
    example once, so the page warns.
    """
    mine = {comparison_key(q): q for q in [entry.get("question") or "", *entry["paraphrases"]]}
    found = []
    for row in rows:
        if row["id"] == entry["id"] or row.get("disabled"):
            continue
        for q in [row["question"], *row["paraphrases"]]:
            if comparison_key(q) in mine:
                found.append(f"「{mine[comparison_key(q)]}」与 {row['id']} 相同")
    return found


# --------------------------------------------------------------------------- policy


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value for every leaf (mappings are descended, lists are leaves)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    node: Any = value
    for part in reversed(dotted.split(".")):
        node = {part: node}
    return node


def _remove(data: dict[str, Any], dotted: str) -> None:
    """Remove a leaf and the mappings it leaves empty."""
    parts = dotted.split(".")
    trail = [data]
    for part in parts[:-1]:
        nxt = trail[-1].get(part)
        if not isinstance(nxt, dict):
            return
        trail.append(nxt)
    trail[-1].pop(parts[-1], None)
    for node, part in zip(reversed(trail[:-1]), reversed(parts[:-1]), strict=True):
        if node.get(part) == {}:
            node.pop(part)


_KEY_LINE = re.compile(r"^(\s*)([A-Za-z_][\w-]*):(.*)$")


def policy_comments(text: str) -> dict[str, str]:
    """Dotted key -> the comment written above or beside it in the policy file."""
    notes: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            pending = []
            continue
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        match = _KEY_LINE.match(line)
        if not match:
            pending = []
            continue
        indent = len(match.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match.group(2)))
        dotted = ".".join(k for _, k in stack)
        trailing = match.group(3).split("  #", 1)[1].strip() if "  #" in match.group(3) else ""
        note = " ".join([*pending, trailing]).strip()
        if note:
            notes[dotted] = note
        pending = []
    return notes


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "lines"
    return "json"


def _allows_float(key: str) -> bool:
    """Whether the loader takes a decimal for `key` (REQUIRED_KEYS says int | float)."""
    expected = REQUIRED_KEYS.get(key)
    return isinstance(expected, tuple) and float in expected


def coerce(shipped: Any, value: Any, key: str = "") -> Any:
    """`value` from the page in the shipped value's type; EditError if it cannot be.

    A whole number stays whole unless the loader takes decimals for `key` (a yuan amount
    shipped as 99 may become 99.5; a count of days may not).
    """
    kind = _kind(shipped)
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if str(value).strip().lower() in ("true", "false"):
                return str(value).strip().lower() == "true"
            raise EditError("请填 true 或 false")
        if kind in ("int", "number"):
            if isinstance(value, bool):
                raise EditError("请填数字")
            number = float(value.strip()) if isinstance(value, str) else value
            if not isinstance(number, int | float) or not math.isfinite(number):
                raise EditError("请填数字")
            if float(number).is_integer():
                return int(number) if kind == "int" else float(number)
            if kind == "int" and not _allows_float(key):
                raise EditError("请填整数")
            return float(number)
        if kind == "text":
            if not isinstance(value, str) or not value.strip():
                raise EditError("请填文字，不能为空")
            return value.strip()
        if kind == "lines":
            return _lines(value)
        parsed = json.loads(value) if isinstance(value, str) else value
    except EditError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        if kind in ("int", "number"):
            raise EditError("请填数字") from exc
        raise EditError(f"格式不对：{exc}") from exc
    if type(parsed) is not type(shipped):
        raise EditError(f"应为 {type(shipped).__name__}（与原值同一结构，JSON 格式）")
    return parsed


def _text_placeholder_errors(shipped: Any, value: Any, policy: Policy) -> list[str]:
    """Placeholders of a policy wording (e.g. `resilience.holding_reply`'s {hotline}).

    A wording shipped with placeholders is filled in with the reply values, so it may use
    known ones only; a wording shipped without any is shown as it is, so it may use none.
    """
    if not isinstance(value, str):
        return []
    if isinstance(shipped, str) and _PLACEHOLDER.search(shipped):
        return placeholder_errors(value, policy.reply_values())
    if "{" in value or "}" in value:
        return ["这一项不支持占位符：请直接写文字，不要用 { }"]
    return []


class PolicyStore:
    """The shipped policy plus the shop's overrides file: read and change values."""

    def __init__(
        self,
        policy_file: Path | None = None,
        overrides: Path | None = None,
        extra_check: Callable[[Policy], None] | None = None,
    ) -> None:
        """Files from the settings unless given.

        `extra_check(policy)` raises PolicyError for rules checked outside core (e.g. the
        web app's `security` values).
        """
        settings = get_settings()
        self.policy_file = policy_file or settings.policy_file
        self.overrides = overrides or settings.shop_policy_overrides
        self.extra_check = extra_check

    def _shipped(self) -> dict[str, Any]:
        return yaml.safe_load(self.policy_file.read_text(encoding="utf-8")) or {}

    def _overrides(self) -> dict[str, Any]:
        if not self.overrides.exists():
            return {}
        data = yaml.safe_load(self.overrides.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise EditError(f"{self.overrides} must contain a mapping")
        return data

    def fields(self) -> list[dict[str, Any]]:
        """Every policy value: key, current value, shipped value, kind, changed, note."""
        shipped_data = self._shipped()
        shipped = flatten(shipped_data)
        current = flatten(merge_values(shipped_data, self._overrides()))
        notes = policy_comments(self.policy_file.read_text(encoding="utf-8"))
        return [
            {
                "key": key,
                "value": current.get(key, value),
                "shipped": value,
                "kind": _kind(value),
                "changed": current.get(key, value) != value,
                "note": notes.get(key, ""),
            }
            for key, value in shipped.items()
        ]

    def set(self, key: str, raw_value: Any) -> tuple[Any, Any]:
        """Change one value; (before, after). EditError with the reason.

        The merged policy is checked by the loader (`load_policy`: types, ranges and the
        rules between values), then by `extra_check`, before the overrides file changes.
        """
        with _exclusive(self.overrides):
            shipped = flatten(self._shipped())
            if key not in shipped:
                raise EditError(f"没有这个政策项：{key}")
            value = coerce(shipped[key], raw_value, key)
            overrides = self._overrides()
            before = flatten(merge_values(self._shipped(), overrides)).get(key)
            if value == shipped[key]:
                _remove(overrides, key)  # back to the shipped value: nothing to keep
            else:
                overrides = merge_values(overrides, _nest(key, value))
            staged = _staged(self.overrides, POLICY_HEADER + _yaml(overrides))
            try:
                policy = load_policy(self.policy_file, staged)
                if self.extra_check:
                    self.extra_check(policy)
                problems = (
                    []
                    if key in PATTERN_KEYS
                    else _text_placeholder_errors(shipped[key], value, policy)
                )
                if problems:
                    raise EditError("；".join(problems))
            except PolicyError as exc:
                staged.unlink(missing_ok=True)
                # the message names the staged file: say which rule it was instead
                reason = str(exc).replace(f"{staged}: ", "").replace(str(staged), "")
                raise EditError(f"与政策规则不符：{reason}") from exc
            except BaseException:
                staged.unlink(missing_ok=True)
                raise
            os.replace(staged, self.overrides)
        return before, value


# --------------------------------------------------------------------------- audit


def append_audit(
    who: dict[str, Any],
    kind: str,
    target: str,
    action: str,
    before: Any,
    after: Any,
    path: Path | None = None,
) -> dict[str, Any]:
    """Append one change to the audit log (ADMIN_AUDIT_LOG, one JSON object a line)."""
    record = {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "agent": who.get("id"),
        "name": who.get("name"),
        "kind": kind,
        "target": target,
        "action": action,
        "before": before,
        "after": after,
    }
    path = path or get_settings().admin_audit_log
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _write_lock, path.open("a", encoding="utf-8") as log:
        log.write(line)  # one append of one line: lines of concurrent writers do not mix
    return record


def read_audit(limit: int = 50, path: Path | None = None) -> list[dict[str, Any]]:
    """The latest `limit` changes, newest first (the tail of the log only)."""
    path = path or get_settings().admin_audit_log
    if not path.exists():
        return []
    with path.open("rb") as log:
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - 512 * 1024))
        lines = log.read().decode("utf-8", "replace").splitlines()
    records = []
    for line in reversed(lines):
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
        if len(records) >= limit:
            break
    return records


# --------------------------------------------------------------------------- training


def fingerprint(entry: Entry | dict[str, Any]) -> str:
    """What the intent model learns of an FAQ entry: its topic (the intent) and questions."""
    data = as_dict(entry) if isinstance(entry, Entry) else entry
    questions = sorted({comparison_key(q) for q in [data["question"], *data["paraphrases"]]})
    text = json.dumps([data.get("topic"), questions], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def write_fingerprints(path: Path, entries: list[Entry] | None = None) -> None:
    """Record the FAQ questions the model is being trained on (scripts/train.sh).

    `entries` default to the knowledge base with the shop's overrides, disabled entries
    left out — exactly what `make data` turned into NLU examples.
    """
    faq = [e for e in (entries if entries is not None else load_entries()) if e.kind == "faq"]
    write_atomically(
        path, json.dumps({e.id: fingerprint(e) for e in faq}, ensure_ascii=False, indent=1)
    )


def trained_examples(nlu_dir: Path = PROJECT_ROOT / "data" / "nlu") -> set[str]:
    """Comparison keys of every NLU training example (when no fingerprints exist)."""
    keys = set()
    for path in nlu_dir.glob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    keys.add(comparison_key(line.strip()[2:]))
    return keys


def needs_training(rows: list[dict[str, Any]], fingerprints: Path | None = None) -> set[str]:
    """Ids of the entries the intent model does not know as they are now.

    Compared with the fingerprints written at the last `make train`: an enabled entry
    whose questions or topic changed (or that is new), and a disabled one the model was
    still trained on. Without that file, an enabled entry whose question or a paraphrase
    is missing from data/nlu/ needs training.
    """
    path = fingerprints or get_settings().faq_trained_fingerprint
    live = [r for r in rows if not r.get("disabled")]
    try:
        trained = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        keys = trained_examples()
        return {
            r["id"]
            for r in live
            if any(comparison_key(q) not in keys for q in [r["question"], *r["paraphrases"]])
        }
    if not isinstance(trained, dict):
        trained = {}
    changed = {r["id"] for r in live if trained.get(r["id"]) != fingerprint(r)}
    return changed | {r["id"] for r in rows if r.get("disabled") and r["id"] in trained}


def main(argv: list[str] | None = None) -> int:
    """`python -m dianxiaoer.knowledge.editor fingerprint PATH` (scripts/train.sh)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "fingerprint":
        print("usage: python -m dianxiaoer.knowledge.editor fingerprint PATH", file=sys.stderr)
        return 2
    write_fingerprints(Path(args[1]))
    print(f"FAQ fingerprints: {args[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
