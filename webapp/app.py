"""The web app (one Sanic process): shop, agent console, callbacks, training, analytics.

Runs in the action server's environment (SQLAlchemy 2 for the shop store, no Rasa); it
talks to Rasa only server-side, through Rasa's HTTP API (webapp/shared.py). One blueprint
an area:

- webapp/shop.py: the demo shop page, the widget's files and config, customer login and API;
- webapp/console.py: the agent console, its queue, claim/reply/hand-back, typing signal;
- webapp/callbacks.py: callback requests on the console, and their messages for the widget;
- webapp/training.py: the staff training page and its API;
- webapp/analytics.py: the analytics page and its API;
- webapp/admin.py: the shop admin page (FAQ and policy values) and its API.

Who is asking: webapp/auth.py. The bot messages the web app writes (agent joined, hand-back,
rating, callback): webapp/replies.py. Headers, body limit and login attempt limits:
webapp/security.py. Lost 回访 reminders: webapp/sweeper.py.
"""

from __future__ import annotations

from sanic import Sanic

from dianxiaoer.core.settings import get_settings, is_production
from webapp import admin, analytics, auth, callbacks, console, security, shop, training
from webapp import sweeper as followups
from webapp.shared import STATIC, install_errors, public_rasa_url, trigger_followup


async def start_followup_sweeper(app: Sanic, _loop) -> None:
    """Listener: recover the 回访 that a stopped Rasa server took with it (webapp.sweeper)."""
    app.add_task(followups.sweep_forever(trigger_followup))


def create_app() -> Sanic:
    """The Sanic application."""
    app = Sanic("dianxiaoer_web")
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.agent_typing = {}  # conversation -> monotonic time the signal ends (console.py)
    security.install(app, public_rasa_url)  # headers, CSP, body limit
    auth.install(app)  # every agent token is a login attempt, under the attempt limits
    install_errors(app)  # Rasa unreachable (502) or naming another conversation (409)
    app.static("/static", str(STATIC))
    for blueprint in (shop.bp, console.bp, callbacks.bp, training.bp, analytics.bp, admin.bp):
        app.blueprint(blueprint)
    if not is_production():
        app.blueprint(shop.demo)  # production has no demo login: the route does not exist
    app.register_listener(start_followup_sweeper, "after_server_start")
    return app


def main() -> None:
    """Run the web app (WEB_PORT, default 8080; WEB_HOST, default loopback)."""
    from dianxiaoer.core.startup_check import require  # the check only `python -m webapp` runs

    require("web")  # production refuses demo secrets; demo says so
    settings = get_settings()
    create_app().run(host=settings.web_host, port=settings.web_port, access_log=False)


if __name__ == "__main__":
    main()
