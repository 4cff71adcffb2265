from pathlib import Path

import jieba
import pytest

from dianxiaoer.knowledge import vocabulary
from dianxiaoer.knowledge.vocabulary import (
    VocabularyError,
    jieba_dictionary_lines,
    load_vocabulary,
    parse_vocabulary,
    ruler_patterns,
    write_jieba_dictionary,
)


@pytest.fixture(scope="module")
def terms():
    return load_vocabulary()


def _words(tokenizer, text):
    return [w for w in tokenizer.cut(text) if w.strip()]


def test_default_jieba_splits_domain_words_and_ours_keeps_them(terms, tmp_path):
    plain = jieba.Tokenizer()  # a fresh tokenizer with only jieba's own dictionary
    assert "花呗" not in _words(plain, "可以用花呗分期吗")

    ours = jieba.Tokenizer()
    ours.load_userdict(str(write_jieba_dictionary(tmp_path, terms)))
    for text, word in [
        ("可以用花呗分期吗", "花呗"),
        ("支持七天无理由吗", "七天无理由"),
        ("网银能付吗", "网银"),
        ("我买的蓝牙耳机还没到", "蓝牙耳机"),
        ("发中通还是圆通", "中通"),
        ("发中通还是圆通", "圆通"),
        ("快捷支付失败了", "快捷支付"),
        ("花贝能用吗", "花贝"),
    ]:
        assert word in _words(ours, text), (text, _words(ours, text))


def test_dictionary_covers_every_non_ascii_form(terms):
    words = {line.split()[0] for line in jieba_dictionary_lines(terms)}
    for term in terms:
        for form in term.surface_forms:
            if not form.isascii() and " " not in form:
                assert form in words


def test_write_is_stable(tmp_path, terms):
    path = write_jieba_dictionary(tmp_path, terms)
    before = path.stat().st_mtime_ns
    write_jieba_dictionary(tmp_path, terms)
    assert path.stat().st_mtime_ns == before  # unchanged content is not rewritten


def test_patterns_carry_the_canonical_value(terms):
    patterns = ruler_patterns(terms)
    assert {"label": "payment_method", "pattern": "花贝", "id": "花呗"} in patterns
    assert {"label": "courier", "pattern": "顺风", "id": "顺丰"} in patterns


def test_required_categories_are_present(terms):
    names = {(t.entity, t.name) for t in terms}
    for expected in [
        ("payment_method", "花呗"),
        ("payment_method", "快捷支付"),
        ("payment_method", "网银"),
        ("courier", "中通"),
        ("courier", "圆通"),
        ("courier", "顺丰"),
        ("policy_term", "七天无理由"),
        ("product", "连衣裙"),
        ("glossary_term", "转换成本"),
    ]:
        assert expected in names


@pytest.mark.parametrize(
    "data, message",
    [
        ({"product": "连衣裙"}, "must be a list"),
        ({"product": [{"synonyms": ["x"]}]}, "non-empty name"),
        (
            {"product": [{"name": "a"}], "courier": [{"name": "b", "synonyms": ["A"]}]},
            "listed twice",
        ),
    ],
)
def test_malformed_vocabulary_is_rejected(data, message):
    with pytest.raises(VocabularyError, match=message):
        parse_vocabulary(data)


def test_cli_writes_dictionary(tmp_path: Path):
    assert vocabulary.main([str(tmp_path)]) == 0
    assert (tmp_path / "userdict.txt").read_text(encoding="utf-8").startswith("连衣裙 ")
