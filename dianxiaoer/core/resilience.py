"""What the bot says when something behind it fails (no Rasa imports).

Two replies, worded in config/policy.yml under `resilience` (not hashed into the model, so
the wording changes without retraining) with the policy values ({hotline}, ...) filled in:

- the holding reply of the REST channel (`dianxiaoer.rasa_plugins.channels`) when a turn produced no
  message at all, e.g. the action server is down;
- the apology of the actions when the shop store cannot be reached (`actions.common`).

Both must work when the policy file itself is the problem, so each has a fixed fallback.
"""

from __future__ import annotations

import logging

from dianxiaoer.core.text import SIMPLIFIED, localize

logger = logging.getLogger(__name__)

HOLDING_REPLY_KEY = "resilience.holding_reply"
STORE_APOLOGY_KEY = "resilience.store_unavailable"

# Used when the policy has no wording (an older policy file) ...
_DEFAULTS = {
    HOLDING_REPLY_KEY: "亲，店小二这边系统有点忙，刚才的消息暂时没能处理好，"
    "请稍等一两分钟再发一次～着急的话也可以拨打客服热线 {hotline}。",
    STORE_APOLOGY_KEY: "抱歉亲，订单系统暂时连接不上，店小二现在查不到订单和售后信息。"
    "您的消息已经记下了，请过几分钟再试一次；着急的话可以拨打客服热线 {hotline}。",
}
# ... and these when the policy file cannot be read at all (no values to fill in).
_LAST_RESORT = {
    HOLDING_REPLY_KEY: "亲，店小二这边系统有点忙，刚才的消息暂时没能处理好，"
    "请稍等一两分钟再发一次～",
    STORE_APOLOGY_KEY: "抱歉亲，订单系统暂时连接不上，店小二现在查不到订单和售后信息，"
    "请过几分钟再试一次～",
}


def _render(key: str, script: str) -> str:
    from dianxiaoer.core.policy import PolicyError, get_policy

    try:
        policy = get_policy()
        values = policy.reply_values()
    except PolicyError:
        logger.exception("policy unreadable; using the built-in %s wording", key)
        return localize(_LAST_RESORT[key], script)
    template = policy.get(key) or _DEFAULTS[key]
    try:
        text = str(template).format(**values)
    except (KeyError, IndexError, ValueError):
        # a typo in the policy wording must not turn an apology into a crash
        logger.exception("policy %s has an unknown placeholder; using the default", key)
        text = _DEFAULTS[key].format(**values)
    return localize(text, script)


def holding_reply(script: str = SIMPLIFIED) -> str:
    """The holding reply for a turn that produced no message, in `script`."""
    return _render(HOLDING_REPLY_KEY, script)


def store_apology(script: str = SIMPLIFIED) -> str:
    """The apology when the shop store is unavailable, in `script`."""
    return _render(STORE_APOLOGY_KEY, script)
