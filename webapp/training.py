"""The staff training page (/training) and its API, registered on the web app.

Trainees log in with their roster name or id and token (config/trainees.yml) and get a
signed trainee token: the page hands it to the widget (every message's metadata carries
it, so the bot records the practice under their id) and sends it back as
`Authorization: Bearer …` for their own progress and plot. Trainers — agents with
`trainer: true` — use their console token (`X-Agent-Token`) to see every trainee.
Wrong tokens count against the client IP and the trainee (`security.check_login`): past the
policy's `security` limits the login answers 429 with Retry-After. Who may see what:
`webapp.auth` (`TRAINER`, `TRAINEE_OR_TRAINER`).
"""

from __future__ import annotations

import asyncio

from sanic import Blueprint, response
from sanic.request import Request

from dianxiaoer.coaching import roleplay
from dianxiaoer.core import roster
from dianxiaoer.core.auth import mint_trainee_token
from dianxiaoer.core.policy import get_policy
from dianxiaoer.store import training
from webapp import security
from webapp.auth import TRAINEE_OR_TRAINER, TRAINER, Viewer, requires
from webapp.shared import error, json_body, page

RECENT = 20

bp = Blueprint("training")


def _requested_trainee(request: Request) -> str | None:
    wanted = (request.args.get("trainee") or "").strip()
    return wanted[:64] or None


def progress_payload(trainee_id: str | None) -> dict:
    """Mastery, Leitner boxes and recent attempts of a trainee (None: everyone)."""
    names = roster.trainee_names()
    recent = training.attempts(trainee_id)[-RECENT:][::-1]
    payload = {
        "trainee": None
        if trainee_id is None
        else {"id": trainee_id, "name": names.get(trainee_id, trainee_id)},
        "mastery": training.mastery(trainee_id),
        "level_names": training.LEVEL_NAMES,
        "dimension_names": {key: roleplay.dimension_label(key) for key in roleplay.DIMENSIONS},
        "recent": [a.as_dict() for a in recent],
        "boxes": {},
    }
    if trainee_id is not None:
        progress = training.progress_of(trainee_id)
        counts: dict[str, int] = {}
        for box in progress.boxes.values():
            counts[str(box)] = counts.get(str(box), 0) + 1
        payload["boxes"] = dict(sorted(counts.items()))
    return payload


@bp.get("/training")
async def training_page(request: Request):
    """The staff training page."""
    return await page("training.html", mime_type="text/html; charset=utf-8")


@bp.post("/api/training/login")
async def training_login(request: Request):
    """Roster name or id + token -> a signed trainee token (401 otherwise)."""
    body = json_body(request)
    who = str(body.get("trainee") or "").strip()[:64]
    person, refused = security.check_login(
        request,
        str(body.get("token") or "")[:256],
        lambda token: roster.trainee_login(who, token),
        account=roster.trainee_account(who),
    )
    if refused is not None:
        return refused  # 429: too many wrong tokens from this address or for this trainee
    if person is None:
        return error("wrong name or token", 401)
    ttl = get_policy()["verification.token_ttl_seconds"]
    return response.json(
        {
            "trainee": person["id"],
            "name": person["name"],
            "token": mint_trainee_token(person["id"], ttl),
            "expires_in": ttl,
        }
    )


@bp.get("/api/training/progress")
@requires(TRAINEE_OR_TRAINER)
async def training_progress(request: Request, who: Viewer):
    """A trainee's own progress; a trainer's view of `?trainee=` (or of everyone)."""
    return response.json(progress_payload(who.trainee or _requested_trainee(request)))


@bp.get("/api/training/plot.png")
@requires(TRAINEE_OR_TRAINER)
async def training_plot(request: Request, who: Viewer):
    """The score-over-time PNG (trainer: `?trainee=`, else every trainee)."""
    # imported here: matplotlib loads only when a plot is asked for
    from dianxiaoer.coaching.report import render_png

    # matplotlib takes a moment: keep the event loop serving the chat page meanwhile
    png = await asyncio.to_thread(render_png, who.trainee or _requested_trainee(request))
    return response.raw(png, content_type="image/png", headers={"Cache-Control": "no-store"})


@bp.get("/api/training/trainees")
@requires(TRAINER)
async def training_trainees(request: Request, trainer: dict):
    """Every trainee (roster and chat) with their summary: trainers only."""
    names = roster.trainee_names()
    # the most recently active first, then roster trainees who have not started yet
    ordered = [s.as_dict() for s in training.trainees()]
    active = {row["trainee_id"] for row in ordered}
    ordered += [
        {
            "trainee_id": trainee_id,
            "attempts": 0,
            "quiz_answered": 0,
            "quiz_correct": 0,
            "quiz_accuracy": None,
            "roleplay_sessions": 0,
            "roleplay_average": None,
            "last_active": None,
        }
        for trainee_id in names
        if trainee_id not in active
    ]
    for row in ordered:
        row["name"] = names.get(row["trainee_id"], "")
        row["roster"] = row["trainee_id"] in names
    return response.json({"trainees": ordered})
