"""Who may log in: agents (config/agents.yml) and trainees (config/trainees.yml).

Everyone's login token comes from the environment variable `<PREFIX><ID upper-case>`
(AGENT_TOKEN_WANGFANG, TRAINEE_TOKEN_XIAOLI); without it the demo token "demo-<id>" works,
so the demo runs out of the box — real deployments set their own tokens.
Trainers are agents with `trainer: true`: they see every trainee's progress. Agents see
and claim the handoff queue of their skill groups only; `role: supervisor` sees all.
`role: admin` edits the shop's FAQ and policy on the admin page (/admin).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from functools import lru_cache
from pathlib import Path

import yaml

from dianxiaoer.core.settings import get_settings

AGENT_TOKEN_PREFIX = "AGENT_TOKEN_"
TRAINEE_TOKEN_PREFIX = "TRAINEE_TOKEN_"
#: Agent roles (config/agents.yml `role`): an agent works the skill groups listed in
#: `skills`; a supervisor sees and may claim every group (ACD still offers them `skills`);
#: an admin edits the FAQ and the policy values (/admin) and works the groups of `skills`.
AGENT, SUPERVISOR, ADMIN = "agent", "supervisor", "admin"
ROLES = (AGENT, SUPERVISOR, ADMIN)
#: Roster ids are plain: they end up in signed tokens ("id.expiry.signature").
ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,32}$")


def with_tokens(people: list[dict], env_prefix: str) -> list[dict]:
    """Each person with their login token: `<env_prefix><ID>` if set, else "demo-<id>".

    In production (DXE_MODE) there is no demo token: an unset variable is an empty token,
    which never matches (and the start-up check refuses to start without it).
    """
    from dianxiaoer.core.settings import is_production

    fallback = "" if is_production() else "demo-{id}"
    return [
        {
            **p,
            "token": os.environ.get(f"{env_prefix}{p['id'].upper()}")
            or fallback.format(id=p["id"]),
        }
        for p in people
    ]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def find_by_token(people: list[dict], token: str | None) -> dict | None:
    """The person whose token this is, else None, in the same time whoever it is.

    Both sides are hashed first, so `hmac.compare_digest` compares equal lengths (its time
    then says nothing about the token's length either), and every person is compared
    (no early exit that would tell which roster position matched).
    """
    if not token or not isinstance(token, str):
        return None
    wanted = _digest(token)
    found = None
    for person in people:
        if hmac.compare_digest(_digest(str(person["token"])), wanted) and found is None:
            found = person
    return found


@lru_cache(maxsize=2)
def load_agents(path: str | None = None) -> dict:
    """`config/agents.yml` (AGENTS_FILE): the agents (id, name, skills, capacity), handle time.

    Read once per process (every handoff asks for it).
    """
    file = Path(path) if path else get_settings().agents_file
    return yaml.safe_load(file.read_text(encoding="utf-8"))


def agents(path: str | Path | None = None) -> list[dict]:
    """Configured agents with their console tokens; ValueError on an unknown `role`."""
    people = load_agents(str(path or get_settings().agents_file))["agents"]
    for person in people:
        if person.get("role", AGENT) not in ROLES:
            raise ValueError(f"agent {person.get('id')!r}: role must be one of {ROLES}")
    return with_tokens(people, AGENT_TOKEN_PREFIX)


def is_supervisor(agent: dict) -> bool:
    """A supervisor (`role: supervisor`) sees and may claim every skill group."""
    return agent.get("role") == SUPERVISOR


def is_admin(agent: dict) -> bool:
    """An admin (`role: admin`) edits the shop's FAQ and policy values on /admin."""
    return agent.get("role") == ADMIN


def sees_group(agent: dict, skill_group: str) -> bool:
    """Whether `agent` may see and claim conversations of `skill_group` (skills, or all)."""
    return is_supervisor(agent) or skill_group in (agent.get("skills") or [])


def trainers(path: str | Path | None = None) -> list[dict]:
    """Agents with `trainer: true`."""
    return [a for a in agents(path) if a.get("trainer") is True]


def trainees(path: str | Path | None = None) -> list[dict]:
    """The trainee roster (id, name) with login tokens; ValueError on a malformed entry."""
    file = Path(path or get_settings().trainees_file)
    data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    people = data.get("trainees") or []
    for person in people:
        if not ID_PATTERN.match(str(person.get("id", ""))) or not person.get("name"):
            raise ValueError(f"{file}: trainee needs an id [a-z0-9_-] and a name: {person!r}")
    return with_tokens(people, TRAINEE_TOKEN_PREFIX)


def trainee_login(who: str, token: str, path: str | Path | None = None) -> dict | None:
    """The roster trainee named or identified by `who` whose token is `token`, else None."""
    who = (who or "").strip()
    person = next(
        (p for p in trainees(path) if who and who in (p["id"], p["name"])),
        None,
    )
    return person if person and find_by_token([person], token) else None


def trainee_account(who: str, path: str | Path | None = None) -> str:
    """Whose login attempts `who` (a roster name or id) are: the trainee's id, else `who`.

    Name and id of one trainee count as one account for the login attempt limits.
    """
    who = (who or "").strip()
    try:
        person = next((p for p in trainees(path) if who and who in (p["id"], p["name"])), None)
    except FileNotFoundError:
        person = None
    return person["id"] if person else who.casefold()


def trainee_names(path: str | Path | None = None) -> dict[str, str]:
    """Roster id -> display name (chat trainees without a login have none)."""
    try:
        return {p["id"]: p["name"] for p in trainees(path)}
    except FileNotFoundError:
        return {}
