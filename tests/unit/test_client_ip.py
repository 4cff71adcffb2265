"""The channels set the sender's address in the metadata; a client cannot choose it."""

from __future__ import annotations

from types import SimpleNamespace

from dianxiaoer.rasa_plugins.channels import CLIENT_IP_KEY, with_client_ip


def test_the_peer_address_replaces_what_the_client_sent():
    request = SimpleNamespace(remote_addr="", ip="203.0.113.9")
    metadata = {"customer_token": "t", CLIENT_IP_KEY: "198.51.100.1"}
    expected = {"customer_token": "t", CLIENT_IP_KEY: "203.0.113.9"}
    assert with_client_ip(metadata, request) == expected
    assert metadata[CLIENT_IP_KEY] == "198.51.100.1"  # the caller's dict is not changed


def test_a_configured_proxy_forwarded_address_wins():
    request = SimpleNamespace(remote_addr="198.51.100.7", ip="127.0.0.1")
    assert with_client_ip(None, request) == {CLIENT_IP_KEY: "198.51.100.7"}


def test_no_request_no_address_and_no_spoofed_one():
    assert with_client_ip({CLIENT_IP_KEY: "1.2.3.4"}, None) == {}
    broken = SimpleNamespace(remote_addr="", ip="")
    assert with_client_ip({"a": 1}, broken) == {"a": 1}
