from pathlib import Path

import pytest
import yaml

from dianxiaoer.core.policy import PolicyError, get_policy, load_policy
from dianxiaoer.core.settings import PROJECT_ROOT, get_settings

POLICY = PROJECT_ROOT / "config" / "policy.yml"


def test_default_policy_loads_with_the_seed_figures():
    policy = get_policy()
    assert policy["returns.no_reason_days"] == 7
    assert policy["returns.no_reason_hours"] == 168
    assert "定制类商品" in policy["returns.excluded_categories"]
    assert policy["nlu.max_message_chars"] > 0
    values = policy.reply_values()
    assert values["return_hours"] == 168 and values["hotline"] == policy["service.hotline"]


def test_policy_file_from_environment(tmp_path: Path, monkeypatch):
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data["service"]["hotline"] = "400-000-0000"
    custom = tmp_path / "policy.yml"
    custom.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SHOP_POLICY_FILE", str(custom))
    assert get_settings().policy_file == custom
    assert get_policy()["service.hotline"] == "400-000-0000"


def test_edited_policy_is_reloaded(tmp_path: Path, monkeypatch):
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    custom = tmp_path / "policy.yml"
    custom.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("SHOP_POLICY_FILE", str(custom))
    assert get_policy()["shipping.ship_within_hours"] == 48
    data["shipping"]["ship_within_hours"] = 24
    custom.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    import os

    os.utime(custom, (1, 1))  # a different mtime, whatever the clock's resolution
    assert get_policy()["shipping.ship_within_hours"] == 24


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["returns"].pop("no_reason_days"), "no_reason_days"),
        (lambda d: d["returns"].update(no_reason_hours=100), "24 × no_reason_days"),
        (lambda d: d["nlu"].update(max_message_chars=True), "not a boolean"),
        (lambda d: d["service"].update(hotline=4008208820), "hotline"),
    ],
)
def test_invalid_policy_is_rejected(tmp_path: Path, mutate, message):
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_missing_or_broken_file(tmp_path: Path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("a: [", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(broken)


def test_settings_defaults(monkeypatch):
    for name in ("RASA_PORT", "ACTIONS_PORT", "TRACKER_DB", "SHOP_POLICY_FILE"):
        monkeypatch.delenv(name, raising=False)
    settings = get_settings()
    assert settings.rasa_port == 5005 and settings.actions_port == 5055
    assert settings.tracker_db == PROJECT_ROOT / ".rasa" / "tracker.db"
    monkeypatch.setenv("RASA_PORT", "6005")
    assert get_settings().rasa_port == 6005


@pytest.mark.parametrize(
    "pattern, example, message",
    [
        ("QH(\\d{11}", "QH20261201001", "not a regular expression"),
        ("QH(\\d{11})", "QH20261201001", "must not have groups"),
        ("\\d+", "202611010001", "short numbers"),
    ],
)
def test_order_number_format_is_checked(tmp_path: Path, pattern, example, message):
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data["orders"].update(id_pattern=pattern, id_example=example)
    custom = tmp_path / "policy.yml"
    custom.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError, match=message):
        load_policy(custom)


def test_a_shops_order_numbers_are_read_and_described(use_shop_order_numbers):
    """The order-number format is the policy's: the form's check and the replies follow
    the shop's overrides at once (the NLU regex after `make data` and training)."""
    from dianxiaoer.rasa_plugins.knowledge_nlu import render
    from dianxiaoer.shop.journeys import extract_order_id

    assert extract_order_id("订单202611010001到哪了") == "202611010001"
    assert extract_order_id("QH20261201001") is None
    use_shop_order_numbers()
    assert extract_order_id("订单QH20261201001到哪了") == "QH20261201001"
    assert extract_order_id("202611010001") is None
    assert extract_order_id("XQH20261201001") is None  # inside a longer code
    values = get_policy().reply_values()
    assert (values["order_id_format"], values["order_id_example"]) == (
        "QH加11位数字",
        "QH20261201001",
    )
    regex = yaml.safe_load(render({}, "(?<![0-9A-Za-z])(?:QH\\d{11})(?![0-9A-Za-z])"))["nlu"]
    assert regex == [
        {"regex": "order_id", "examples": "- (?<![0-9A-Za-z])(?:QH\\d{11})(?![0-9A-Za-z])\n"}
    ]
