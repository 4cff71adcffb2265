"""Customer tokens: maximum lifetime, and no demo secret in production."""

from __future__ import annotations

import pytest

from dianxiaoer.core import auth, startup_check
from dianxiaoer.core.policy import get_policy


def test_token_lifetime_is_capped_by_the_policy(monkeypatch):
    monkeypatch.setenv("SHOP_TOKEN_SECRET", "x" * 32)
    ttl = get_policy()["verification.token_ttl_seconds"]
    token = auth.mint_token("C1001", ttl * 100, now=1000)
    # minted for 100 lifetimes, it carries one
    assert int(token.split(".")[1]) == 1000 + ttl
    assert auth.verify_token(token, now=1000 + ttl - 1) == "C1001"
    assert auth.verify_token(token, now=1000 + ttl + 1) is None


def test_a_token_expiring_beyond_the_maximum_is_refused(monkeypatch):
    """Whoever holds the secret cannot hand out tokens that (nearly) never expire."""
    monkeypatch.setenv("SHOP_TOKEN_SECRET", "x" * 32)
    ttl = get_policy()["verification.token_ttl_seconds"]
    payload = f"C1001.{1000 + ttl * 10}"
    forged_long = f"{payload}.{auth._sign(payload, b'x' * 32)}"
    assert auth.verify_token(forged_long, now=1000) is None
    within_skew = f"C1001.{1000 + ttl + 30}"
    token = f"{within_skew}.{auth._sign(within_skew, b'x' * 32)}"
    assert auth.verify_token(token, now=1000) == "C1001"


def test_odd_signatures_are_refused_not_raised(monkeypatch):
    monkeypatch.setenv("SHOP_TOKEN_SECRET", "x" * 32)
    for bad in ("C1001.99999999999.签名", "C1001.1.\ud800", "a.b.c" * 200):
        assert auth.verify_token(bad, now=1000) is None


def test_demo_mode_signs_with_the_demo_secret(monkeypatch):
    monkeypatch.delenv("SHOP_TOKEN_SECRET", raising=False)
    monkeypatch.setenv("DXE_MODE", "demo")
    token = auth.mint_token("C1001", 60, now=1000)
    assert auth.verify_token(token, now=1010) == "C1001"


def test_production_never_signs_or_verifies_with_the_demo_secret(monkeypatch):
    monkeypatch.setenv("DXE_MODE", "demo")
    monkeypatch.delenv("SHOP_TOKEN_SECRET", raising=False)
    demo_token = auth.mint_token("C1001", 60, now=1000)
    monkeypatch.setenv("DXE_MODE", "production")
    for secret in (None, auth.DEMO_SECRET):
        if secret is None:
            monkeypatch.delenv("SHOP_TOKEN_SECRET", raising=False)
        else:
            monkeypatch.setenv("SHOP_TOKEN_SECRET", secret)
        with pytest.raises(auth.MissingSecretError):
            auth.mint_token("C1001", 60)
        with pytest.raises(auth.MissingSecretError):
            auth.verify_token(demo_token, now=1010)


def test_unknown_mode_is_an_error(monkeypatch):
    monkeypatch.setenv("DXE_MODE", "staging")
    with pytest.raises(ValueError, match="DXE_MODE"):
        startup_check.report("all")


PRODUCTION_ENV = {
    "SHOP_TOKEN_SECRET": "s" * 32,
    "ACTIONS_TOKEN": "a" * 32,
    "RASA_API_TOKEN": "r" * 32,
    "AGENT_TOKEN_WANGFANG": "w" * 32,
    "AGENT_TOKEN_LIUYANG": "l" * 32,
    "AGENT_TOKEN_CHENJING": "c" * 32,
    "AGENT_TOKEN_ZHAOMIN": "m" * 32,
    "TRAINEE_TOKEN_XIAOLI": "x" * 32,
    "TRAINEE_TOKEN_XIAOZHAO": "z" * 32,
}


def test_production_start_needs_every_secret(monkeypatch):
    monkeypatch.setenv("DXE_MODE", "production")
    assert startup_check.problems("all", PRODUCTION_ENV) == []
    assert startup_check.report("all", PRODUCTION_ENV)[0] == 0
    code, text = startup_check.report("all", {})
    assert code == 2
    for name in PRODUCTION_ENV:
        assert name in text
    assert "Nothing was started" in text


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("SHOP_TOKEN_SECRET", auth.DEMO_SECRET, "public demo value"),
        ("AGENT_TOKEN_WANGFANG", "demo-wangfang", "public demo value"),
        ("TRAINEE_TOKEN_XIAOLI", "demo-xiaoli", "public demo value"),
        ("ACTIONS_TOKEN", "short", "shorter than"),
        ("RASA_API_TOKEN", "", "not set"),
    ],
)
def test_production_refuses_demo_and_weak_values(monkeypatch, name, value, why):
    monkeypatch.setenv("DXE_MODE", "production")
    found = startup_check.problems("all", {**PRODUCTION_ENV, name: value})
    assert len(found) == 1 and name in found[0] and why in found[0]


def test_each_component_checks_only_what_it_holds(monkeypatch):
    monkeypatch.setenv("DXE_MODE", "production")
    env = {"ACTIONS_TOKEN": "a" * 32, "RASA_API_TOKEN": "r" * 32}
    assert startup_check.problems("rasa", env) == []
    assert any("SHOP_TOKEN_SECRET" in p for p in startup_check.problems("actions", env))
    assert any("AGENT_TOKEN" in p for p in startup_check.problems("web", env))


def test_demo_banner_names_each_demo_value(monkeypatch):
    monkeypatch.setenv("DXE_MODE", "demo")
    code, text = startup_check.report("all", {})
    assert code == 0
    assert "DEMO MODE" in text
    assert "SHOP_TOKEN_SECRET" in text and "AGENT_TOKEN_CHENJING" in text
    code, text = startup_check.report("all", PRODUCTION_ENV)
    assert code == 0 and "every secret is set" in text
