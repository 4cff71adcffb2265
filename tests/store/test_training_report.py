"""The training report: text figures, the PNG, and `python -m dianxiaoer.coaching.report`."""

import os
import subprocess
import sys
from datetime import timedelta

from dianxiaoer.coaching import report as training_report
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.store import training
from dianxiaoer.store.db import upgrade
from tests.store.conftest import NOW

PNG = b"\x89PNG\r\n\x1a\n"


def _run(tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "SHOP_DB": str(tmp_path / "shop.db")}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "dianxiaoer.coaching.report", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def _practice(url):
    for n, score in enumerate((1.0, 0.0, 1.0)):
        training.record_quiz_answer(
            "xiaoli",
            f"term.a:{n}",
            "term_to_meaning",
            "退换货",
            3,
            score,
            NOW + n * timedelta(days=1),
            url,
        )
    training.record_quiz_answer("xiaoli", "policy:refund:t", "true_false", "", 3, 1.0, NOW, url)
    training.record_roleplay(
        "xiaoli", "complaint_venting", "resolved", 80, {"共情": 4}, 6, NOW, url=url
    )
    training.record_roleplay(
        "xiaoli",
        "complaint_venting",
        "resolved",
        90,
        {"共情": 5},
        5,
        NOW + timedelta(days=2),
        url=url,
    )
    training.record_roleplay(
        "chat-x1", "presale_size", "escalated", 40, {"共情": 1}, 3, NOW, url=url
    )


def test_report_command_without_attempts_says_so_and_still_writes_a_png(tmp_path):
    out = tmp_path / "report" / "training.png"
    result = _run(tmp_path, "--out", str(out))
    assert "还没有培训记录" in result.stdout
    assert str(out) in result.stdout
    assert out.read_bytes().startswith(PNG)


def test_report_command_prints_every_trainee_and_writes_the_plot(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    _practice(url)
    out = tmp_path / "training.png"
    result = _run(tmp_path, "--out", str(out))
    text = result.stdout
    assert "== 小李 (xiaoli) ==" in text and "== chat-x1 ==" in text
    assert "测验：答题 4 次，答对 3 次，正确率 75.0%" in text
    assert "★★★ 掌握" in text and "政策判断题" in text and "退换货" in text and "店铺政策" in text
    assert "角色扮演：2 次，平均总分 85.0" in text and "共情 4.5" in text
    assert out.read_bytes().startswith(PNG) and out.stat().st_size > 10_000
    one = _run(tmp_path, "--trainee", "chat-x1", "--out", str(tmp_path / "one.png"))
    assert "chat-x1" in one.stdout and "小李" not in one.stdout
    assert "角色扮演：1 次，平均总分 40.0" in one.stdout
    assert (tmp_path / "one.png").read_bytes().startswith(PNG)


def test_makefile_target():
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ntraining-report: store" in makefile
    assert "$(ABIN)/python -m dianxiaoer.coaching.report" in makefile
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:"))
    assert "training-report" in phony.split()


def test_render_png_on_both_backends(store_url):
    assert training_report.render_png(url=store_url).startswith(PNG)  # no attempts yet
    _practice(store_url)
    for trainee in (None, "xiaoli", "chat-x1", "nobody"):
        assert training_report.render_png(trainee, store_url).startswith(PNG)
    text = training_report.text_report(url=store_url)
    assert text.index("chat-x1") < text.index("xiaoli")
    assert "还没有培训记录" in training_report.text_report("nobody", store_url)


def test_plot_falls_back_to_english_labels_without_a_cjk_font(store_url, monkeypatch):
    _practice(store_url)
    monkeypatch.setattr(training_report, "cjk_font", lambda: None)
    assert training_report._setup() is False
    assert training_report.render_png("xiaoli", store_url).startswith(PNG)


def test_cjk_font_is_used_when_installed():
    from matplotlib import font_manager

    family = training_report.cjk_font()
    installed = any("wqy" in path.lower() for path in font_manager.findSystemFonts())
    if installed:  # Debian fonts-wqy-microhei (make browser-deps installs it)
        assert family and "WenQuanYi" in family
        assert training_report._setup() is True
    else:
        assert family is None or isinstance(family, str)


def test_time_axis_spans_the_days_trained():
    from datetime import datetime

    one = datetime(2026, 12, 7, 15, 30)
    assert training_report.day_span([one]) == (datetime(2026, 12, 7), datetime(2026, 12, 8))
    later = datetime(2026, 12, 9, 9, 0)
    assert training_report.day_span([later, one]) == (
        datetime(2026, 12, 7),
        datetime(2026, 12, 10),
    )
