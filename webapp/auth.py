"""Who is asking: agents, trainers, trainees and customers, for every area of the web app.

- Agents (console, callbacks, analytics, trainer view) send their console token in
  `X-Agent-Token`. Every request carrying one is a login attempt: `identify_agent` looks it
  up once per request under the login attempt limits (`security.check_login`, 429 with
  Retry-After past them) and keeps the agent in `request.ctx.agent`. A supervisor is an
  agent whose role sees every skill group (`roster.is_supervisor`).
- Trainers are agents with `trainer: true`.
- Admins (the shop admin page, /admin) are agents with `role: admin` (`roster.is_admin`).
- Trainees and customers send a signed token as `Authorization: Bearer …`.

`requires(kind)` guards a route and hands the handler who it is; its 401/403 answers are
the ones each area always gave.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar

from sanic import Sanic, response
from sanic.request import Request

from dianxiaoer.core import roster
from dianxiaoer.core.auth import verify_customer_token, verify_trainee_token
from webapp import security
from webapp.shared import error

AGENT = "agent"
TRAINER = "trainer"
TRAINEE_OR_TRAINER = "trainee_or_trainer"
CUSTOMER = "customer"
ADMIN = "admin"


class Viewer(NamedTuple):
    """Who reads training progress: a trainee (their own) or a trainer (anyone's)."""

    trainee: str | None
    trainer: dict | None


def agents() -> list[dict]:
    """Configured agents with their console tokens (environment, else the demo token)."""
    return roster.agents()


def bearer(request: Request) -> str:
    """The token of an `Authorization: Bearer …` header ("" without one)."""
    return request.headers.get("authorization", "").removeprefix("Bearer ").strip()


async def identify_agent(request: Request) -> response.HTTPResponse | None:
    """Request middleware: look the agent token up once, under the login attempt limits.

    Every request with an agent token is a login attempt (console, analytics, trainer
    view, callbacks), so a guesser gets no unlimited oracle from any of them.
    """
    token = request.headers.get("x-agent-token") or ""
    request.ctx.agent = None
    if token:
        agent, refused = security.check_login(
            request, token, lambda t: roster.find_by_token(agents(), t)
        )
        if refused is not None:
            return refused
        request.ctx.agent = agent
    return None


def install(app: Sanic) -> None:
    """Identify the agent of every request of `app` (`identify_agent`)."""
    app.register_middleware(identify_agent, "request")


def agent_for(request: Request) -> dict | None:
    """The agent whose token the request carries (looked up in constant time).

    `identify_agent` has already looked it up under the login attempt limits; outside a
    request cycle it is looked up here.
    """
    if hasattr(request.ctx, "agent"):
        return request.ctx.agent
    return roster.find_by_token(agents(), request.headers.get("x-agent-token"))


def trainer_of(request: Request) -> tuple[dict | None, response.HTTPResponse | None]:
    """(trainer agent, error response) from `X-Agent-Token`.

    401 without a known token (403 if the caller is a logged-in trainee), 403 for an agent
    who is not a trainer.
    """
    agent = agent_for(request)
    if agent is None:
        if verify_trainee_token(bearer(request)):
            return None, error("trainers only", 403)
        return None, error("trainee or trainer token required", 401)
    if agent.get("trainer") is not True:
        return None, error("trainers only", 403)
    return agent, None


def viewer(request: Request) -> tuple[Viewer | None, response.HTTPResponse | None]:
    """(who is asking, error response) for training progress.

    A valid trainee token limits the request to that trainee; otherwise the caller must be
    a trainer (`trainer_of`).
    """
    trainee = verify_trainee_token(bearer(request))
    if trainee:
        return Viewer(trainee, None), None
    agent, refused = trainer_of(request)
    return (None, refused) if refused is not None else (Viewer(None, agent), None)


def _agent(request: Request) -> tuple[Any, response.HTTPResponse | None]:
    agent = agent_for(request)
    return (agent, None) if agent is not None else (None, error("agent token required", 401))


def _admin(request: Request) -> tuple[Any, response.HTTPResponse | None]:
    agent, refused = _agent(request)
    if refused is not None:
        return None, refused
    return (agent, None) if roster.is_admin(agent) else (None, error("admins only", 403))


def _customer(request: Request) -> tuple[Any, response.HTTPResponse | None]:
    customer = verify_customer_token(bearer(request))
    return (customer, None) if customer else (None, error("login required", 401))


_CHECKS: dict[str, Callable[[Request], tuple[Any, response.HTTPResponse | None]]] = {
    AGENT: _agent,
    TRAINER: trainer_of,
    TRAINEE_OR_TRAINER: viewer,
    CUSTOMER: _customer,
    ADMIN: _admin,
}

P = ParamSpec("P")
R = TypeVar("R")


def requires(
    kind: str,
) -> Callable[
    [Callable[Concatenate[Request, Any, P], Coroutine[Any, Any, R]]],
    Callable[Concatenate[Request, P], Coroutine[Any, Any, R | response.HTTPResponse]],
]:
    """Route decorator: `handler(request, who, ...)` for a caller of `kind`, else its error.

    `who` is the agent (AGENT, TRAINER, ADMIN), a `Viewer` (TRAINEE_OR_TRAINER) or the
    customer id (CUSTOMER). Errors: 401 `agent token required` / `login required` /
    `trainee or trainer token required`, 403 `trainers only` / `admins only`; a locked IP
    already got 429 from `identify_agent`.
    """
    check = _CHECKS[kind]

    def decorate(
        handler: Callable[Concatenate[Request, Any, P], Coroutine[Any, Any, R]],
    ) -> Callable[Concatenate[Request, P], Coroutine[Any, Any, R | response.HTTPResponse]]:
        @wraps(handler)
        async def guarded(
            request: Request, *args: P.args, **kwargs: P.kwargs
        ) -> R | response.HTTPResponse:
            who, refused = check(request)
            if refused is not None:
                return refused
            return await handler(request, who, *args, **kwargs)

        return guarded

    return decorate
