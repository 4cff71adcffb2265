"""The action server: rasa_sdk's app, answering only Rasa.

`python -m rasa_sdk` listens on 0.0.0.0 without authentication and trusts every slot of
the tracker posted to it, so anyone who reaches the port could read or change orders
(post a tracker with `verified_customer` set). This entry point runs the same app with

- a shared secret: every call but `/health` must carry the header `X-Actions-Token`
  equal to `ACTIONS_TOKEN` (compared in constant time); Rasa sends it from
  `action_endpoint.headers` in endpoints.yml;
- loopback by default (`ACTIONS_HOST` widens it, e.g. 0.0.0.0 in a container);
- no CORS (no browser talks to it) and no request body echoed in error answers (rasa_sdk's
  handler returns the whole tracker on a 500);
- the start-up check of `dianxiaoer.core.startup_check` (production refuses demo secrets).

    python -m dianxiaoer.action_server [--port 5055] [--host 127.0.0.1]
"""

from __future__ import annotations

import argparse
import hmac
import logging
from typing import Any

TOKEN_ENV = "ACTIONS_TOKEN"
HEADER = "X-Actions-Token"
#: Unauthenticated: load balancers and the launchers poll it; it says nothing but "ok".
OPEN_PATHS = frozenset({"/health"})

logger = logging.getLogger(__name__)


def token_matches(expected: str, given: str | None) -> bool:
    """True if `given` is the shared secret (constant time; an empty secret never matches)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def create_app(token: str, package: str = "actions") -> Any:
    """rasa_sdk's Sanic app for `package`, behind the shared secret `token`."""
    from rasa_sdk.endpoint import create_app as sdk_app
    from sanic import response

    app = sdk_app(package, cors_origins=None)

    @app.on_request
    async def authenticate(request):
        if request.path in OPEN_PATHS:
            return None
        if not token_matches(token, request.headers.get(HEADER)):
            return response.json({"error": f"missing or wrong {HEADER} header"}, status=401)
        return None

    @app.exception(Exception)
    async def failed(request, exception: Exception):
        # rasa_sdk's own handler answers with the posted body: the customer's tracker
        logger.error("action call failed: %s", request.path, exc_info=exception)
        return response.json({"error": "action failed"}, status=500)

    return app


def main(argv: list[str] | None = None) -> None:
    """Check the secrets, then serve the project's actions."""
    from dianxiaoer.core.settings import get_settings
    from dianxiaoer.core.startup_check import require

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    settings = get_settings()
    parser.add_argument("--port", type=int, default=settings.actions_port)
    parser.add_argument("--host", default=settings.actions_host)
    parser.add_argument("--actions", default="actions", help="package with the actions")
    args = parser.parse_args(argv)
    require("actions")
    token = settings.actions_token
    if not token:
        # no token, no server: an open action server is what this module exists to prevent
        raise SystemExit(
            f"error: {TOKEN_ENV} is not set; Rasa sends it as the {HEADER} header "
            "(`make run` sets a random one per start)"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(token, args.actions)
    logger.info("action server on http://%s:%d (calls need %s)", args.host, args.port, HEADER)
    app.run(host=args.host, port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
