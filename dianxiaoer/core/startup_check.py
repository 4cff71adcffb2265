"""What a server checks before it starts: demo secrets are said out loud, production refuses them.

`DXE_MODE=demo` (the default, what `make run` uses) runs with the public demo values of
the README — the customer-token secret, the `demo-<id>` logins of agents and trainees —
and says so in a banner naming each one. `DXE_MODE=production` refuses to start while any
secret the component needs is missing, too short or a demo value, and prints which.

    python -m dianxiaoer.core.startup_check [all|rasa|actions|web]

exits 0 (ready; a demo banner on stderr in demo mode) or 2 (production without secrets).
The web app and the action server call `require()` themselves; `scripts/launch.py`
(`make run`) and the Kubernetes sketch run the command before anything starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from dianxiaoer.core.settings import PRODUCTION, mode

#: Shortest secret accepted in production (a 16-byte random value in hex is 32).
MIN_SECRET_CHARS = 24

COMPONENTS = ("rasa", "actions", "web")


@dataclass(frozen=True)
class Secret:
    """One secret a component needs: its variable and why."""

    env: str
    purpose: str
    demo_value: str | None  # what demo mode uses when the variable is unset


def _roster_secrets() -> list[Secret]:
    from dianxiaoer.core import roster

    people = [(roster.AGENT_TOKEN_PREFIX, p, "agent console login") for p in roster.agents()]
    people += [(roster.TRAINEE_TOKEN_PREFIX, p, "trainee page login") for p in roster.trainees()]
    return [
        Secret(f"{prefix}{p['id'].upper()}", f"{purpose} of {p['id']}", f"demo-{p['id']}")
        for prefix, p, purpose in people
    ]


def needed(component: str) -> list[Secret]:
    """The secrets `component` (rasa, actions, web or all) runs with."""
    from dianxiaoer.core.auth import DEMO_SECRET, TOKEN_SECRET_ENV

    shop = Secret(TOKEN_SECRET_ENV, "signs the shop page's customer tokens", DEMO_SECRET)
    actions = Secret("ACTIONS_TOKEN", "Rasa -> action server header", None)
    api = Secret("RASA_API_TOKEN", "web app -> Rasa HTTP API", None)
    by_component = {
        "rasa": [actions, api],
        "actions": [shop, actions],
        "web": [shop, api, *_roster_secrets()],
    }
    if component == "all":
        seen: dict[str, Secret] = {}
        for name in COMPONENTS:
            for secret in by_component[name]:
                seen.setdefault(secret.env, secret)
        return list(seen.values())
    if component not in by_component:
        raise ValueError(f"unknown component {component!r}: one of all, {', '.join(COMPONENTS)}")
    return by_component[component]


def problems(component: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Why `component` may not start in production (empty: it may)."""
    env = os.environ if env is None else env
    found = []
    for secret in needed(component):
        value = env.get(secret.env) or ""
        if not value:
            found.append(f"{secret.env} is not set ({secret.purpose})")
        elif secret.demo_value is not None and value == secret.demo_value:
            found.append(f"{secret.env} is the public demo value ({secret.purpose})")
        elif len(value) < MIN_SECRET_CHARS:
            found.append(f"{secret.env} is shorter than {MIN_SECRET_CHARS} characters")
    return found


def demo_values_in_use(component: str, env: Mapping[str, str] | None = None) -> list[str]:
    """The demo values this component falls back to (demo mode)."""
    env = os.environ if env is None else env
    return [
        f"{s.env} unset: the public demo value is used ({s.purpose})"
        for s in needed(component)
        if s.demo_value is not None and not env.get(s.env)
    ]


def report(component: str, env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """The exit code and the text to print for a start of `component`."""
    if mode() == PRODUCTION:
        found = problems(component, env)
        if not found:
            return 0, f"DXE_MODE=production: {component} has its own secrets"
        lines = "\n".join(f"  - {p}" for p in found)
        return 2, (
            f"error: DXE_MODE=production and {component} would start without its own "
            f"secrets:\n{lines}\nSet each variable to a random value of at least "
            f"{MIN_SECRET_CHARS} characters (e.g. `openssl rand -hex 24`); see README "
            '"Configuration". Nothing was started.'
        )
    demo = demo_values_in_use(component, env)
    lines = "\n".join(f"  - {d}" for d in demo) or "  - (every secret is set)"
    return 0, (
        "!! DEMO MODE (DXE_MODE=demo): anyone who knows the README's demo values can log in "
        "as a demo customer, agent or trainee.\n"
        f"{lines}\n"
        "!! Never expose this to the internet; a shop runs with DXE_MODE=production."
    )


def require(component: str) -> None:
    """Print the banner; exit with status 2 when production lacks secrets."""
    code, text = report(component)
    print(text, file=sys.stderr, flush=True)
    if code:
        raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    """Command line: `python -m dianxiaoer.core.startup_check [all|rasa|actions|web]`."""
    args = sys.argv[1:] if argv is None else argv
    component = args[0] if args else "all"
    if component not in ("all", *COMPONENTS):
        print(f"usage: python -m dianxiaoer.core.startup_check [all|{'|'.join(COMPONENTS)}]")
        raise SystemExit(64)
    require(component)


if __name__ == "__main__":
    main()
