"""The 回访 sweeper: trigger the follow-ups that a stopped Rasa server took with it.

Rasa schedules a reminder in the memory of the server that set it. The action that sets it
also records it in the shop store (dianxiaoer.store.followups), and the action that runs it
marks it done. The web app calls `sweep_once` every `followup.sweep_seconds`: a 回访 still
not done `followup.recovery_grace_seconds` after it was due is triggered through Rasa's
HTTP API in its conversation, which runs the same action (so it is said once, whichever
way it comes). No Rasa imports: `trigger` is the caller's HTTP call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timezone

from dianxiaoer.core.policy import get_policy
from dianxiaoer.core.settings import get_settings
from dianxiaoer.store import followups

logger = logging.getLogger(__name__)

#: The intent the 回访 reminder (and the sweeper) triggers; a rule runs action_follow_up.
FOLLOWUP_INTENT = "EXTERNAL_follow_up"


def timing() -> tuple[float, float, int]:
    """(grace seconds, sweep interval seconds, max attempts): policy, or env overrides."""
    policy, settings = get_policy(), get_settings()
    grace = settings.followup_grace_seconds
    every = settings.followup_sweep_seconds
    return (
        float(policy["followup.recovery_grace_seconds"] if grace is None else grace),
        float(policy["followup.sweep_seconds"] if every is None else every),
        int(policy["followup.max_attempts"]),
    )


def sweep_once(
    trigger: Callable[[str, str], None], now: datetime | None = None, url: str | None = None
) -> list[followups.Overdue]:
    """Claim the overdue 回访 and call `trigger(conversation_id, ticket)` for each.

    A failed trigger (Rasa unreachable) is logged and retried at the next sweep after
    another grace period, up to the policy's attempts.
    """
    grace, _every, attempts = timing()
    claimed = followups.claim_overdue(now or datetime.now(timezone.utc), grace, attempts, url=url)
    for overdue in claimed:
        try:
            trigger(overdue.conversation_id, overdue.ticket)
            logger.info("回访 %s recovered in %s", overdue.ticket, overdue.conversation_id)
        except Exception:
            logger.exception(
                "回访 %s: trigger failed (attempt %d)", overdue.ticket, overdue.attempts
            )
    return claimed


async def sweep_forever(trigger: Callable[[str, str], None]) -> None:
    """`sweep_once` every sweep interval, off the event loop, until cancelled."""
    while True:
        _grace, every, _attempts = timing()
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(sweep_once, trigger)
        except Exception:
            # the shop store may be down for a while: the next sweep tries again
            logger.exception("回访 sweep failed")
