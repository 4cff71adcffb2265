"""The unanswered-question log: masked at write time, rotated by size, no line lost."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest

from dianxiaoer.knowledge.unanswered import (
    append_line,
    read_unanswered,
    record_unanswered,
    rotated_files,
)


@pytest.fixture
def log(tmp_path, monkeypatch):
    path = tmp_path / "unanswered.jsonl"
    monkeypatch.setenv("UNANSWERED_LOG", str(path))
    monkeypatch.delenv("UNANSWERED_MAX_BYTES", raising=False)
    monkeypatch.delenv("UNANSWERED_KEEP", raising=False)
    return path


def test_the_text_is_masked_before_it_is_written(log):
    record = record_unanswered(
        "我住在北京市朝阳区建国路88号3栋2单元501，收件人王小明 13812345678，"
        "订单202406150001能改地址吗",
        "s1",
        "ask_faq",
        [("faq_address", 0.42)],
    )
    raw = log.read_text(encoding="utf-8")
    for secret in ("建国路", "88号", "王小明", "13812345678", "202406150001"):
        assert secret not in raw
    assert record["text"] == "我住在<地址>，收件人<姓名> <手机号>，订单<订单号>能改地址吗"
    assert json.loads(raw) == record
    assert record["candidates"] == [{"id": "faq_address", "score": 0.42}]
    # readable by its owner only
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600


def test_lines_written_before_masking_are_masked_when_read(log):
    old = {"time": "2026-11-01T10:00:00+08:00", "sender_id": "s", "text": "尾号5678，我叫李娜"}
    log.write_text(json.dumps(old, ensure_ascii=False) + "\nnot json\n", encoding="utf-8")
    assert [r["text"] for r in read_unanswered()] == ["尾号<尾号>，我叫<姓名>"]


def test_rotation_keeps_at_most_n_files_and_every_last_line(log, monkeypatch):
    monkeypatch.setenv("UNANSWERED_MAX_BYTES", "600")
    monkeypatch.setenv("UNANSWERED_KEEP", "2")
    texts = [f"第{i}个问题：能寄到国外吗" for i in range(40)]
    for i, text in enumerate(texts):
        record_unanswered(text, f"s{i}", None, [])
        # the line just written is always in the current file, complete
        last = log.read_text(encoding="utf-8").splitlines()[-1]
        assert json.loads(last)["sender_id"] == f"s{i}"
        assert log.stat().st_size <= 600
        assert len(rotated_files(log)) <= 2
    assert [p.name for p in rotated_files(log)] == ["unanswered.jsonl.2", "unanswered.jsonl.1"]
    kept = [r["sender_id"] for r in read_unanswered()]
    # oldest first, contiguous, ending with the last one written; older ones dropped
    assert kept == [f"s{i}" for i in range(40 - len(kept), 40)]
    assert 3 < len(kept) < 40


def test_a_line_longer_than_the_limit_gets_a_file_of_its_own(tmp_path):
    path = tmp_path / "log.jsonl"
    append_line(path, "a" * 50 + "\n", max_bytes=100, keep=3)
    append_line(path, "b" * 300 + "\n", max_bytes=100, keep=3)
    append_line(path, "c\n", max_bytes=100, keep=3)
    assert path.read_text() == "c\n"
    assert [p.read_text()[0] for p in rotated_files(path)] == ["a", "b"]


def test_keep_zero_keeps_only_the_current_file(tmp_path):
    path = tmp_path / "log.jsonl"
    for ch in "abc":
        append_line(path, ch * 80 + "\n", max_bytes=100, keep=0)
    assert path.read_text() == "c" * 80 + "\n"
    assert rotated_files(path) == []


def test_concurrent_writers_lose_no_line(tmp_path):
    path = tmp_path / "log.jsonl"

    def write(worker: int) -> None:
        for i in range(50):
            append_line(path, json.dumps({"w": worker, "i": i}) + "\n", max_bytes=2000, keep=100)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = [
        json.loads(line)
        for file in [*rotated_files(path), path]
        for line in file.read_text().splitlines()
    ]
    assert sorted((r["w"], r["i"]) for r in lines) == [(w, i) for w in range(4) for i in range(50)]
    assert all(p.stat().st_size <= 2000 for p in [*rotated_files(path), path])


def _write_from_process(path, worker: int) -> None:
    for i in range(40):
        append_line(path, json.dumps({"w": worker, "i": i}) + "\n", max_bytes=1500, keep=200)


def test_writers_in_several_processes_lose_no_line(tmp_path):
    import multiprocessing

    path = tmp_path / "log.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_from_process, args=(path, w)) for w in range(3)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    lines = [
        json.loads(line)
        for file in [*rotated_files(path), path]
        for line in file.read_text().splitlines()
    ]
    assert sorted((r["w"], r["i"]) for r in lines) == [(w, i) for w in range(3) for i in range(40)]
