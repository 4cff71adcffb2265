import json

from dianxiaoer.nlu import evaluation


def write_report(directory, macro):
    report = {
        "greet": {"precision": 1.0, "recall": 0.9, "f1-score": 0.947, "support": 10},
        "deny": {"precision": 0.9, "recall": 1.0, "f1-score": 0.947, "support": 10},
        "accuracy": 0.95,
        "macro avg": {"precision": 0.95, "recall": 0.95, "f1-score": macro, "support": 20},
        "weighted avg": {"precision": 0.95, "recall": 0.95, "f1-score": macro, "support": 20},
    }
    (directory / "intent_report.json").write_text(json.dumps(report), encoding="utf-8")
    entities = {
        "product": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 3},
        "order_id": {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 2},
        "macro avg": {"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 5},
    }
    (directory / "VocabularyEntityExtractor_report.json").write_text(json.dumps(entities))
    regex = {"order_id": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667, "support": 2}}
    (directory / "RegexEntityExtractor_report.json").write_text(json.dumps(regex))


def test_summary_ends_with_macro_f1(tmp_path):
    write_report(tmp_path, 0.947)
    text = evaluation.summary(tmp_path)
    assert text.splitlines()[-1].startswith(
        "held-out intent macro-F1: 0.9470 (2 intents, 20 examples)"
    )
    assert "entity order_id         f1 0.667" in text  # the regex extractor owns order_id


def test_gate(tmp_path, capsys):
    write_report(tmp_path, 0.947)
    assert evaluation.main(["gate", str(tmp_path), "--min-macro-f1", "0.93"]) == 0
    write_report(tmp_path, 0.90)
    assert evaluation.main(["gate", str(tmp_path), "--min-macro-f1", "0.93"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_missing_report_is_explained(tmp_path):
    try:
        evaluation.load_intent_report(tmp_path)
    except FileNotFoundError as exc:
        assert "make eval" in str(exc)
    else:
        raise AssertionError("expected FileNotFoundError")
