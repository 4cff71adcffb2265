"""The staff training page (/training) and its API, registered on the web app.

Trainees log in with their roster name or id and token (config/trainees.yml) and get a
signed trainee token: the page hands it to the widget (every message's metadata carries
it, so the bot records the practice under their id) and sends it back as
`Authorization: Bearer …` for their own progress and plot. Trainers — agents with
`trainer: true` — use their console token (`X-Agent-Token`) to see every trainee.
Wrong tokens count against the client IP and the trainee (`security.check_login`): past the
policy's `security` limits the login answers 429 with Retry-After.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sanic import Sanic, response
from sanic.request import Request

from dianxiaoer import roleplay, roster
from dianxiaoer.auth import mint_trainee_token, verify_trainee_token
from dianxiaoer.policy import get_policy
from dianxiaoer.store import training
from webapp import security

STATIC = Path(__file__).parent / "static"
RECENT = 20


def _bearer(request: Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ").strip()


def trainer_of(request: Request) -> tuple[dict | None, response.HTTPResponse | None]:
    """(trainer agent, error response) from `X-Agent-Token`.

    401 without a known token (403 if the caller is a logged-in trainee), 403 for an agent
    who is not a trainer.
    """
    if hasattr(request.ctx, "agent"):  # looked up under the login limits (webapp/app.py)
        agent = request.ctx.agent
    else:
        agent = roster.find_by_token(roster.agents(), request.headers.get("x-agent-token"))
    if agent is None:
        if verify_trainee_token(_bearer(request)):
            return None, response.json({"error": "trainers only"}, status=403)
        return None, response.json({"error": "trainee or trainer token required"}, status=401)
    if agent.get("trainer") is not True:
        return None, response.json({"error": "trainers only"}, status=403)
    return agent, None


def viewer(request: Request) -> tuple[str | None, dict | None, response.HTTPResponse | None]:
    """(trainee id, trainer agent, error response): who is asking.

    A valid trainee token limits the request to that trainee; otherwise the caller must be
    a trainer (`trainer_of`).
    """
    trainee = verify_trainee_token(_bearer(request))
    if trainee:
        return trainee, None, None
    agent, error = trainer_of(request)
    return None, agent, error


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


def register(app: Sanic) -> None:
    """Add the training page and its API routes to `app`."""

    @app.get("/training")
    async def training_page(request: Request):
        return await response.file(STATIC / "training.html", mime_type="text/html; charset=utf-8")

    @app.post("/api/training/login")
    async def training_login(request: Request):
        """Roster name or id + token -> a signed trainee token (401 otherwise)."""
        body = request.json if isinstance(request.json, dict) else {}
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
            return response.json({"error": "wrong name or token"}, status=401)
        ttl = get_policy()["verification.token_ttl_seconds"]
        return response.json(
            {
                "trainee": person["id"],
                "name": person["name"],
                "token": mint_trainee_token(person["id"], ttl),
                "expires_in": ttl,
            }
        )

    @app.get("/api/training/progress")
    async def training_progress(request: Request):
        """A trainee's own progress; a trainer's view of `?trainee=` (or of everyone)."""
        trainee, _trainer, error = viewer(request)
        if error is not None:
            return error
        return response.json(progress_payload(trainee or _requested_trainee(request)))

    @app.get("/api/training/plot.png")
    async def training_plot(request: Request):
        """The score-over-time PNG (trainer: `?trainee=`, else every trainee)."""
        trainee, _trainer, error = viewer(request)
        if error is not None:
            return error
        from dianxiaoer.training_report import render_png

        # matplotlib takes a moment: keep the event loop serving the chat page meanwhile
        png = await asyncio.to_thread(render_png, trainee or _requested_trainee(request))
        return response.raw(png, content_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/api/training/trainees")
    async def training_trainees(request: Request):
        """Every trainee (roster and chat) with their summary: trainers only."""
        _trainer, error = trainer_of(request)
        if error is not None:
            return error
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
