"""The shop admin page (/admin): the FAQ and the policy values, edited by shop staff.

Only agents with `role: admin` (config/agents.yml, `X-Agent-Token`) may use the API: 401
without a known token, 403 for other agents. The files, validation, audit log and the
"needs retraining" mark are dianxiaoer.knowledge.editor's; this module is the HTTP side:

- `GET /api/admin/faq?q=` lists (and searches) the entries with their origin, state and
  whether the intent model needs retraining for them; `POST /api/admin/faq` adds one,
  `PUT /api/admin/faq/<id>` edits one, `PUT …/<id>/status` disables or enables one,
  `POST …/<id>/revert` puts a shipped entry back as shipped;
- `POST /api/admin/preview` renders an answer's policy placeholders, simplified and
  traditional;
- `GET /api/admin/policy` lists the policy values, `PUT /api/admin/policy` changes one;
- `GET /api/admin/audit` lists the latest changes.

Invalid input answers 400 `{"error": …, "reasons": […]}` in the page's words. The action
server and the web app reload the override files on change (get_knowledge_base,
get_policy), so nothing needs a restart; see docs/admin.md.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request

from dianxiaoer.core.policy import Policy, get_policy
from dianxiaoer.knowledge.base import KnowledgeError
from dianxiaoer.knowledge.editor import (
    EditError,
    FaqStore,
    PolicyStore,
    UnknownEntry,
    append_audit,
    collisions,
    needs_training,
    read_audit,
    render_answer,
)
from webapp import security
from webapp.auth import ADMIN, requires
from webapp.shared import json_body, page

bp = Blueprint("admin")

#: Most audit rows one request returns.
MAX_AUDIT_ROWS = 200
#: Longest search text (a search is a substring, longer ones find nothing anyway).
MAX_QUERY_CHARS = 100


def refused(reasons: list[str] | str, status: int = 400) -> response.HTTPResponse:
    """400 with the reasons, each a sentence the page shows as it is."""
    reasons = [reasons] if isinstance(reasons, str) else reasons
    return response.json({"error": "；".join(reasons), "reasons": reasons}, status=status)


def check_web_values(policy: Policy) -> None:
    """The web app's own rules for its policy values (webapp.security's `security.*`).

    The core loader does not know them; `security.limits()` checks them at start, so a
    change that would stop the web app from starting is refused here by the same check.
    """
    security.limits(policy)


def policy_values() -> dict[str, Any]:
    """The values FAQ answers may quote as `{placeholders}` (the live policy's)."""
    return get_policy().reply_values()


def _plain(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """An entry as the audit log keeps it: the file's fields and its state, no labels."""
    if row is None:
        return None
    return {k: v for k, v in row.items() if k not in ("origin", "needs_training")}


def _who(agent: dict) -> dict[str, Any]:
    return {"id": agent["id"], "name": agent.get("name")}


def _with_training(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    retrain = needs_training(rows)
    return [{**r, "needs_training": r["id"] in retrain} for r in rows]


def _one(store: FaqStore, entry_id: str) -> dict[str, Any]:
    rows = _with_training(store.entries())
    return next(r for r in rows if r["id"] == entry_id)


@bp.get("/admin")
async def admin_page(request: Request):
    """The admin page (its API needs an admin's token)."""
    return await page("admin.html", mime_type="text/html; charset=utf-8")


@bp.get("/api/admin/me")
@requires(ADMIN)
async def me(request: Request, agent: dict):
    """The logged-in admin: id and name."""
    return response.json(_who(agent), ensure_ascii=False)


def _faq_list(query: str) -> dict[str, Any]:
    store = FaqStore()
    everything = _with_training(store.entries())
    found = {r["id"] for r in store.search(query)} if query else None
    values = policy_values()
    return {
        "entries": [r for r in everything if found is None or r["id"] in found],
        "total": len(everything),
        "retrain": sorted(r["id"] for r in everything if r["needs_training"]),
        "topics": sorted({r["topic"] for r in everything if r.get("topic")}),
        "placeholders": {k: str(v) for k, v in sorted(values.items())},
    }


@bp.get("/api/admin/faq")
@requires(ADMIN)
async def faq_list(request: Request, agent: dict):
    """Every FAQ entry, or those matching `q`; topics and placeholders for the editor."""
    query = (request.args.get("q") or "").strip()[:MAX_QUERY_CHARS]
    try:
        data = await asyncio.to_thread(_faq_list, query)
    except KnowledgeError as exc:
        return refused(f"FAQ 覆盖文件有误，请先修正：{exc}", 500)
    return response.json(data, ensure_ascii=False)


def _save(agent: dict, raw: Any, is_new: bool) -> dict[str, Any]:
    store = FaqStore()
    before, after = store.save(raw, policy_values(), is_new)
    changed = _plain(before) != _plain(after)
    if changed:
        action = "新增" if is_new else "修改"
        append_audit(_who(agent), "faq", after["id"], action, _plain(before), _plain(after))
    entry = _one(store, after["id"])
    return {"entry": entry, "changed": changed, "warnings": collisions(entry, store.entries())}


@bp.post("/api/admin/faq")
@requires(ADMIN)
async def faq_add(request: Request, agent: dict):
    """Add an FAQ entry (201); 400 with the reasons when the loader would refuse it."""
    try:
        data = await asyncio.to_thread(_save, agent, json_body(request), True)
    except (EditError, KnowledgeError) as exc:
        return refused(str(exc).split("；"))
    return response.json(data, status=201, ensure_ascii=False)


@bp.put("/api/admin/faq/<entry_id:str>")
@requires(ADMIN)
async def faq_edit(request: Request, agent: dict, entry_id: str):
    """Edit an FAQ entry (its id is the URL's); 400 with the reasons when refused."""
    body = {**json_body(request), "id": entry_id}
    try:
        data = await asyncio.to_thread(_save, agent, body, False)
    except (EditError, KnowledgeError) as exc:
        return refused(str(exc).split("；"))
    return response.json(data, ensure_ascii=False)


def _status(agent: dict, entry_id: str, disabled: bool) -> dict[str, Any]:
    store = FaqStore()
    before, after = store.set_disabled(entry_id, disabled)
    if before["disabled"] != after["disabled"]:
        action = "停用" if disabled else "启用"
        append_audit(_who(agent), "faq", entry_id, action, _plain(before), _plain(after))
    return {"entry": _one(store, entry_id)}


@bp.put("/api/admin/faq/<entry_id:str>/status")
@requires(ADMIN)
async def faq_status(request: Request, agent: dict, entry_id: str):
    """Disable (`{"disabled": true}`) or enable an entry; it stays in the file."""
    disabled = json_body(request).get("disabled")
    if not isinstance(disabled, bool):
        return refused("disabled 应为 true 或 false")
    try:
        data = await asyncio.to_thread(_status, agent, entry_id, disabled)
    except (EditError, KnowledgeError) as exc:
        return refused(str(exc), 404 if isinstance(exc, UnknownEntry) else 400)
    return response.json(data, ensure_ascii=False)


def _revert(agent: dict, entry_id: str) -> dict[str, Any]:
    store = FaqStore()
    before, after = store.revert(entry_id)
    if _plain(before) != _plain(after):
        append_audit(_who(agent), "faq", entry_id, "恢复出厂", _plain(before), _plain(after))
    return {"entry": _one(store, entry_id)}


@bp.post("/api/admin/faq/<entry_id:str>/revert")
@requires(ADMIN)
async def faq_revert(request: Request, agent: dict, entry_id: str):
    """Put a shipped entry back as faq.yml has it (the shop's own can only be disabled)."""
    try:
        data = await asyncio.to_thread(_revert, agent, entry_id)
    except (EditError, KnowledgeError) as exc:
        return refused(str(exc), 404 if isinstance(exc, UnknownEntry) else 400)
    return response.json(data, ensure_ascii=False)


@bp.post("/api/admin/preview")
@requires(ADMIN)
async def preview(request: Request, agent: dict):
    """An answer as customers read it: simplified, traditional, errors and warnings."""
    answer = json_body(request).get("answer")
    if not isinstance(answer, str):
        return refused("answer 应为文字")
    result = await asyncio.to_thread(render_answer, answer, policy_values())
    return response.json(result, ensure_ascii=False)


def _policy_store() -> PolicyStore:
    return PolicyStore(extra_check=check_web_values)


@bp.get("/api/admin/policy")
@requires(ADMIN)
async def policy_fields(request: Request, agent: dict):
    """Every policy value: key, value, shipped value, kind, changed, the file's comment."""
    fields = await asyncio.to_thread(_policy_store().fields)
    return response.json({"fields": fields}, ensure_ascii=False)


def _set_policy(agent: dict, key: str, value: Any) -> dict[str, Any]:
    store = _policy_store()
    before, after = store.set(key, value)
    if before != after:
        append_audit(_who(agent), "policy", key, "修改", before, after)
    field = next(f for f in store.fields() if f["key"] == key)
    return {"field": field, "changed": before != after}


@bp.put("/api/admin/policy")
@requires(ADMIN)
async def policy_set(request: Request, agent: dict):
    """Change one value: `{"key": "returns.no_reason_days", "value": 7}`.

    Validated as on load, written to the overrides file, audited; 400 with the reason
    when refused.
    """
    body = json_body(request)
    key = body.get("key")
    if not isinstance(key, str) or not key or "value" not in body:
        return refused("需要 key 和 value")
    try:
        data = await asyncio.to_thread(_set_policy, agent, key, body["value"])
    except EditError as exc:
        return refused(str(exc))
    return response.json(data, ensure_ascii=False)


@bp.get("/api/admin/audit")
@requires(ADMIN)
async def audit(request: Request, agent: dict):
    """The latest changes, newest first (`limit`, default 50, at most 200)."""
    try:
        limit = max(1, min(MAX_AUDIT_ROWS, int(request.args.get("limit") or 50)))
    except ValueError:
        return refused("limit 应为数字")
    rows = await asyncio.to_thread(read_audit, limit)
    return response.json({"entries": rows}, ensure_ascii=False)
