"""回访 in the shop store and the sweeper that recovers lost ones (SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest

from dianxiaoer.store import followups, repository
from tests.store.conftest import NOW
from webapp import sweeper

S = timedelta(seconds=1)


def complaint(store_url, conversation: str) -> str:
    return repository.create_complaint(NOW, conversation, "venting", 2, "normal", {}, url=store_url)


def test_a_followup_is_done_once_by_whichever_firing_comes_first(store_url):
    ticket = complaint(store_url, "chat-a")
    followups.schedule(ticket, "chat-a", NOW + 30 * S, url=store_url)
    assert followups.pending("chat-a", url=store_url) == [ticket]
    assert followups.finish(ticket, NOW + 31 * S, url=store_url) is True
    assert followups.finish(ticket, NOW + 32 * S, url=store_url) is False
    assert followups.pending("chat-a", url=store_url) == []
    # a ticket from before the table existed has no row: its 回访 still runs
    assert followups.finish("TS-no-row", NOW, url=store_url) is True


def test_overdue_followups_are_claimed_after_the_grace_once_per_attempt(store_url):
    late, early, done = (complaint(store_url, f"chat-{n}") for n in "bcd")
    followups.schedule(late, "chat-b", NOW, url=store_url)
    followups.schedule(early, "chat-c", NOW + 100 * S, url=store_url)
    followups.schedule(done, "chat-d", NOW, url=store_url)
    followups.finish(done, NOW + S, url=store_url)

    def claim(at):
        return [
            (o.ticket, o.conversation_id, o.attempts)
            for o in followups.claim_overdue(at, 60, 2, url=store_url)
        ]

    assert claim(NOW + 59 * S) == []  # within the grace: Rasa's own reminder may still come
    assert claim(NOW + 60 * S) == [(late, "chat-b", 1)]
    assert claim(NOW + 61 * S) == []  # claimed: not again until another grace period
    assert claim(NOW + 120 * S) == [(late, "chat-b", 2)]
    assert claim(NOW + 500 * S) == [(early, "chat-c", 1)]  # `late` used its 2 attempts


def test_two_sweepers_never_take_the_same_followup(store_url):
    tickets = [complaint(store_url, f"chat-x{n}") for n in range(5)]
    for t in tickets:
        followups.schedule(t, "chat-x", NOW, url=store_url)
    first = followups.claim_overdue(NOW + 200 * S, 60, 3, url=store_url)
    second = followups.claim_overdue(NOW + 200 * S, 60, 3, url=store_url)
    assert sorted(o.ticket for o in first) == sorted(tickets) and second == []


def test_scheduling_again_moves_the_followup(store_url):
    ticket = complaint(store_url, "chat-e")
    followups.schedule(ticket, "chat-e", NOW, url=store_url)
    followups.finish(ticket, NOW, url=store_url)
    followups.schedule(ticket, "chat-e", NOW + 600 * S, url=store_url)
    assert followups.pending("chat-e", url=store_url) == [ticket]
    assert followups.claim_overdue(NOW + 61 * S, 60, 3, url=store_url) == []


def test_the_sweeper_triggers_overdue_followups_and_survives_a_failed_trigger(
    store_url, monkeypatch
):
    monkeypatch.setenv("FOLLOWUP_RECOVERY_GRACE_SECONDS", "10")
    ok, broken = complaint(store_url, "chat-ok"), complaint(store_url, "chat-broken")
    followups.schedule(ok, "chat-ok", NOW, url=store_url)
    followups.schedule(broken, "chat-broken", NOW, url=store_url)
    calls = []

    def trigger(conversation_id, ticket):
        calls.append((conversation_id, ticket))
        if conversation_id == "chat-broken":
            raise ConnectionError("Rasa is down")
        # what Rasa does: the 回访 action runs and marks it done
        followups.finish(ticket, NOW + 11 * S, url=store_url)

    assert sweeper.sweep_once(trigger, NOW + 5 * S, url=store_url) == []
    claimed = sweeper.sweep_once(trigger, NOW + 11 * S, url=store_url)
    assert sorted(calls) == [("chat-broken", broken), ("chat-ok", ok)]
    assert len(claimed) == 2
    # the failed one is retried after another grace period, the done one never again
    calls.clear()
    sweeper.sweep_once(trigger, NOW + 22 * S, url=store_url)
    assert calls == [("chat-broken", broken)]


@pytest.mark.parametrize("name, value", [("recovery_grace_seconds", 120), ("sweep_seconds", 30)])
def test_timing_comes_from_the_policy(name, value, monkeypatch):
    monkeypatch.delenv("FOLLOWUP_RECOVERY_GRACE_SECONDS", raising=False)
    monkeypatch.delenv("FOLLOWUP_SWEEP_SECONDS", raising=False)
    grace, every, attempts = sweeper.timing()
    assert {"recovery_grace_seconds": grace, "sweep_seconds": every}[name] == value
    assert attempts == 3
