"""The shop's domain vocabulary: jieba user dictionary, entity patterns and synonyms.

`knowledge/vocabulary.yml` lists, per entity type, canonical names with synonyms. From it
come (1) the jieba user dictionary that keeps 花呗 or 七天无理由 whole when tokenizing, and
(2) the EntityRuler patterns that recognise those words as entities at run time, so a new
product needs an edit of the file and a restart, not a retraining.

`make import-catalogue` writes the shop's own product names to a second file of the same
schema (SHOP_IMPORTED_VOCABULARY_FILE, default knowledge/vocabulary_imported.yml;
docs/import.md); `load_vocabulary` merges it after the main file, which wins a clash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from dianxiaoer.core.settings import get_settings
from dianxiaoer.core.text import to_simplified

logger = logging.getLogger(__name__)

# jieba frequency for domain words: high enough that 花呗 beats 花 + 呗 and
# 七天无理由 stays one token, as jieba's own guidance for user words suggests.
USER_WORD_FREQ = 20000
_POS = {
    "product": "nz",
    "courier": "nt",
    "payment_method": "nz",
    "policy_term": "nz",
    "glossary_term": "nz",
}


class VocabularyError(ValueError):
    """The vocabulary file is malformed."""


@dataclass(frozen=True)
class Term:
    """A canonical entity value with the surface forms that mean it."""

    entity: str
    name: str
    synonyms: tuple[str, ...]

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """The canonical name followed by its synonyms, without duplicates."""
        return tuple(dict.fromkeys((self.name, *self.synonyms)))


def parse_vocabulary(data: dict) -> list[Term]:
    """Turn the YAML mapping {entity: [{name, synonyms}]} into Terms, validating it."""
    if not isinstance(data, dict):
        raise VocabularyError("vocabulary must be a mapping of entity type to entries")
    terms: list[Term] = []
    seen: dict[str, str] = {}
    for entity, entries in data.items():
        if not isinstance(entries, list):
            raise VocabularyError(f"'{entity}' must be a list of entries")
        for entry in entries:
            if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
                raise VocabularyError(f"every '{entity}' entry needs a non-empty name")
            name = str(entry["name"]).strip()
            synonyms = tuple(str(s).strip() for s in entry.get("synonyms") or [] if str(s).strip())
            term = Term(entity, name, synonyms)
            for form in term.surface_forms:
                key = form.lower()
                if key in seen and seen[key] != f"{entity}:{name}":
                    raise VocabularyError(
                        f"'{form}' is listed twice ({seen[key]} and {entity}:{name})"
                    )
                seen[key] = f"{entity}:{name}"
            terms.append(term)
    return terms


def form_key(form: str) -> str:
    """The key two surface forms clash on: simplified, lower case (input is matched so)."""
    return to_simplified(form).lower()


def read_vocabulary(path: Path | None = None) -> list[Term]:
    """The curated vocabulary file alone (default: SHOP_VOCABULARY_FILE)."""
    path = path or get_settings().vocabulary_file
    return parse_vocabulary(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def load_vocabulary(path: Path | None = None, imported: Path | None = None) -> list[Term]:
    """Read the vocabulary file merged with the imported product names, if any.

    `path` defaults to SHOP_VOCABULARY_FILE (knowledge/vocabulary.yml), `imported` to
    SHOP_IMPORTED_VOCABULARY_FILE (knowledge/vocabulary_imported.yml), read when it exists.
    A broken imported file is logged and left out: the curated words still load and the
    servers still start (the import checks what it writes, but the file can be edited).
    """
    terms = read_vocabulary(path)
    imported = imported or get_settings().imported_vocabulary_file
    if not imported.is_file():
        return terms
    try:
        extra = parse_vocabulary(yaml.safe_load(imported.read_text(encoding="utf-8")) or {})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, VocabularyError) as error:
        logger.warning("imported vocabulary %s left out: %s", imported, error)
        return terms
    return merge_terms(terms, extra)


def merge_terms(main: Iterable[Term], extra: Iterable[Term]) -> list[Term]:
    """`main` followed by `extra`, without the forms `main` already has.

    The curated file wins: an imported product whose name it already lists (e.g. 保温杯)
    is left out, an imported synonym it uses for something else is dropped, so an import
    can never make the vocabulary ambiguous or stop the server from loading it. Forms
    are compared as they are matched: simplified and lower case.
    """
    merged = list(main)
    taken = {form_key(form) for term in merged for form in term.surface_forms}
    for term in extra:
        if form_key(term.name) in taken:
            continue
        synonyms = tuple(s for s in term.synonyms if form_key(s) not in taken)
        merged.append(Term(term.entity, term.name, synonyms))
        taken.update(form_key(form) for form in (term.name, *synonyms))
    return merged


def iter_jieba_words(terms: Iterable[Term]) -> Iterator[tuple[str, str]]:
    """Yield (word, pos) for every surface form that jieba should keep whole.

    Pure-ASCII forms are skipped: jieba already keeps runs of letters and digits whole.
    Traditional forms are not needed because input is converted to simplified first.
    """
    emitted: set[str] = set()
    for term in terms:
        for form in term.surface_forms:
            word = to_simplified(form)
            if word.isascii() or word in emitted or " " in word:
                continue
            emitted.add(word)
            yield word, _POS.get(term.entity, "nz")


def jieba_dictionary_lines(terms: Iterable[Term]) -> list[str]:
    """Lines of a jieba user dictionary ("word freq pos")."""
    return [f"{word} {USER_WORD_FREQ} {pos}" for word, pos in iter_jieba_words(terms)]


def write_jieba_dictionary(target_dir: Path, terms: Iterable[Term] | None = None) -> Path:
    """Write `userdict.txt` into `target_dir` (the JiebaTokenizer's dictionary_path)."""
    terms = load_vocabulary() if terms is None else terms
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / "userdict.txt"
    content = "\n".join(jieba_dictionary_lines(terms)) + "\n"
    if not target.exists() or target.read_text(encoding="utf-8") != content:
        target.write_text(content, encoding="utf-8")
    return target


def ruler_patterns(terms: Iterable[Term]) -> list[dict]:
    """SpaCy EntityRuler phrase patterns; `id` carries the canonical value."""
    return [
        {"label": term.entity, "pattern": to_simplified(form), "id": term.name}
        for term in terms
        for form in term.surface_forms
    ]


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(60)  # jieba logs its cache loading at INFO on every start
    return jieba


def add_words_to_jieba(terms: Iterable[Term]) -> int:
    """Teach the process-wide jieba tokenizer the vocabulary; returns the number of words."""
    jieba = _jieba()
    count = 0
    for word, pos in iter_jieba_words(terms):
        jieba.add_word(word, USER_WORD_FREQ, pos)
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """CLI: `python -m dianxiaoer.knowledge.vocabulary DIR` writes the jieba user dictionary."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path(".build/jieba")
    path = write_jieba_dictionary(target)
    imported = get_settings().imported_vocabulary_file
    # say so when imported product names are in: they change the dictionary, so the
    # training stamp (scripts/train.sh) changes too
    also = f" (with the imported product names of {imported})" if imported.is_file() else ""
    print(f"jieba user dictionary: {path}{also}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
