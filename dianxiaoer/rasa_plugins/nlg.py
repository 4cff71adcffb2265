"""Response generation that answers in the customer's script (simplified/traditional).

Configured in endpoints.yml (`nlg: type: dianxiaoer.rasa_plugins.nlg.ScriptAwareNLG`). It also makes
the shop policy values (config/policy.yml) available as template variables. Every reply
that goes through a response template — rules, stories and custom actions calling
`dispatcher.utter_message(response=...)` — passes here, so one place decides the script.
Buttons that an action adds itself are localized by the action (see actions/common.py).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.events import BotUttered, UserUttered

from dianxiaoer.core.text import (
    SCRIPT_LOOKBACK,
    conversation_script,
    detect_script,
    localize,
    recent_originals,
)

#: Response prepended to the first reply after a message that was cut for length.
TRUNCATION_NOTICE = "utter_notice_truncated"


def user_texts_newest_first(events, limit: int = SCRIPT_LOOKBACK):
    """Texts of the latest user messages, newest first (original text, not normalized)."""
    return recent_originals(
        ((e.parse_data, e.text) for e in reversed(events) if isinstance(e, UserUttered)), limit
    )


def localize_response(response: dict[str, Any], script: str) -> dict[str, Any]:
    """Convert a generated response's text and button titles to `script`."""
    if response.get("text"):
        response["text"] = localize(response["text"], script)
    for button in response.get("buttons") or []:
        if button.get("title"):
            button["title"] = localize(button["title"], script)
    return response


def _policy_values() -> dict[str, Any]:
    from dianxiaoer.core.policy import get_policy

    return get_policy().reply_values()


class ScriptAwareNLG(TemplatedNaturalLanguageGenerator):
    """Templated NLG that follows the customer's script and flags cut-off input."""

    def __init__(self, endpoint_config=None, domain=None) -> None:
        """Rasa passes the endpoint config and the domain (None until a model loads)."""
        super().__init__(domain.responses if domain is not None else {})
        # (sender, message id) pairs that already got the truncation notice; bounded.
        self._noticed: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def generate(self, utter_action: str, tracker, output_channel: str, **kwargs: Any):
        """Generate `utter_action`, then localize it to the conversation's script."""
        # Policy figures ({hotline}, {return_hours}, ...) are available to every response,
        # so a rule can utter a policy answer without a round trip to the action server.
        values = {**_policy_values(), **kwargs}
        response = await super().generate(utter_action, tracker, output_channel, **values)
        if response is None:
            return None
        notice = self._truncation_notice(tracker, output_channel)
        if notice and response.get("text"):
            response["text"] = f"{notice}\n{response['text']}"
        script = conversation_script(user_texts_newest_first(tracker.events))
        return localize_response(response, script)

    def _truncation_notice(self, tracker, output_channel: str) -> str | None:
        """Notice text if the latest user message was cut and has not been noticed yet."""
        latest = None
        for event in reversed(tracker.events):
            if isinstance(event, BotUttered) and latest is None:
                return None  # a reply was already sent for this message
            if isinstance(event, UserUttered):
                latest = event
                break
        if latest is None:
            return None
        info = (latest.parse_data or {}).get("input") or {}
        if not info.get("truncated"):
            return None
        key = (tracker.sender_id, latest.message_id or str(latest.timestamp))
        if key in self._noticed:
            return None
        self._noticed[key] = None
        if len(self._noticed) > 10000:
            self._noticed.popitem(last=False)
        notice = self.generate_from_slots(TRUNCATION_NOTICE, {}, output_channel)
        return notice.get("text") if notice else None


__all__ = ["ScriptAwareNLG", "detect_script", "localize_response", "user_texts_newest_first"]
