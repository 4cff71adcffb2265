"""The knowledge base: glossary, exam points, term list and shop FAQ, with ranked retrieval.

Data lives in `knowledge/*.yml` (see docs/knowledge.md); this module loads and validates
it, and ranks entries for a question with BM25 over jieba words and character bigrams,
fields weighted (names > questions > body), plus a bonus when a whole entry name appears
in the question. Traditional and full-width input is normalized first.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

import yaml

from dianxiaoer.core.files import file_stamp
from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.core.text import normalize, to_simplified

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from dianxiaoer.nlu.linear import LinearIntentModel

KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"
FILES = {
    "glossary": "glossary.yml",
    "exam": "exam_points.yml",
    "term": "terms.yml",
    "faq": "faq.yml",
}
LEVEL_NAMES = {1: "了解", 2: "理解", 3: "掌握"}

# Question scaffolding that says nothing about which entry is meant.
_FILLERS = sorted(
    [
        "请问一下",
        "请问",
        "想问一下",
        "想问下",
        "问一下",
        "问下",
        "我想知道",
        "想知道",
        "告诉我",
        "什么是",
        "是什么意思",
        "什么意思",
        "是什么",
        "是啥意思",
        "是啥",
        "啥是",
        "指的是什么",
        "怎么理解",
        "解释一下",
        "介绍一下",
        "的含义",
        "的意思",
        "意思",
        "含义",
        "定义",
        "what is",
        "what are",
        "what's",
        "what does",
        "mean",
        "meaning of",
        "define",
        "please",
        "explain",
        "亲",
        "呀",
        "啊",
        "呢",
        "吗",
        "吧",
        "哦",
        "嘛",
        "哈",
    ],
    key=len,
    reverse=True,
)
_FILLER_RE = re.compile("|".join(re.escape(f) for f in _FILLERS))
_PUNCT_RE = re.compile(r"[\s!?,.;:~\-。，、！？；：…～·'\"“”‘’()（）【】\[\]/&]+")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
# Function words that only add noise to word matching (bigrams keep the context).
_STOPWORDS = frozenset(
    "的 了 是 在 有 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 一下 一个 就 都 也 还 和 与 "
    "吗 呢 啊 呀 吧 哦 嘛 哈 亲 请 请问 能 能不能 可以 可不可以 会 要 想 怎么 怎么办 怎样 如何 "
    "什么 啥 多少 几 多久 么 不 没 没有 呗 咋 给 让 把 被 对 从 到 用 买 刚".split()
)
_ASCII_WORD = re.compile(r"[a-z0-9]+")

FIELD_WEIGHTS = {"names": 3.0, "questions": 2.0, "body": 1.0}
BM25_K1 = 1.2
BM25_B = 0.6
NAME_BONUS = 6.0
# The paraphrase classifier learns entries with at least this many paraphrases (the
# FAQ) and may pick any of BM25's first candidates.
MIN_PARAPHRASES = 3
PARAPHRASE_CANDIDATES = 5


class KnowledgeError(ValueError):
    """A knowledge file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class ListItem:
    """An item of an entry's list, possibly with a detail and sub-items."""

    name: str
    detail: str | None = None
    items: tuple[ListItem, ...] = ()

    def count(self) -> int:
        """Number of leaf items under this item (1 for a leaf)."""
        return sum(i.count() for i in self.items) if self.items else 1


@dataclass(frozen=True)
class KnowledgeList:
    """A titled, ordered list of an entry (e.g. the 7 loyalty types)."""

    title: str | None
    items: tuple[ListItem, ...]


@dataclass(frozen=True)
class Entry:
    """One answerable knowledge item."""

    id: str
    kind: str
    title: str
    explanation: str
    title_en: str | None = None
    title_hant: str | None = None
    definition_en: str | None = None
    aliases: tuple[str, ...] = ()
    question: str | None = None
    paraphrases: tuple[str, ...] = ()
    answer: str | None = None
    topic: str | None = None
    level: int | None = None
    project: int | None = None
    project_title: str | None = None
    number: int | None = None
    page: str | None = None
    lists: tuple[KnowledgeList, ...] = ()
    examples: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the entry is known by (title, English, traditional, aliases)."""
        names = [self.title, self.title_en, self.title_hant, *self.aliases]
        return tuple(dict.fromkeys(n for n in names if n))

    @property
    def english_names(self) -> tuple[str, ...]:
        """Names written in Latin letters."""
        return tuple(n for n in self.names if n.isascii())

    @property
    def display_title(self) -> str:
        """Short title for buttons and headings."""
        return self.question or self.title

    def list_text(self) -> str:
        """The entry's lists, numbered, one item per line."""
        blocks = []
        for lst in self.lists:
            lines = [f"{lst.title}："] if lst.title else []
            lines += _numbered(lst.items, indent="")
            blocks.append("\n".join(lines))
        return "\n".join(blocks)


def _numbered(items: tuple[ListItem, ...], indent: str) -> list[str]:
    lines = []
    for i, item in enumerate(items, 1):
        text = f"{indent}{i}. {item.name}"
        if item.detail:
            text += f"：{item.detail}"
        lines.append(text)
        lines += _numbered(item.items, indent + "   ")
    return lines


# --------------------------------------------------------------------------- loading


@overload
def _text(data: dict, key: str, where: str, required: Literal[True] = True) -> str: ...


@overload
def _text(data: dict, key: str, where: str, required: bool) -> str | None: ...


def _text(data: dict, key: str, where: str, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise KnowledgeError(f"{where}: '{key}' is required")
        return None
    if not isinstance(value, str | int):
        raise KnowledgeError(f"{where}: '{key}' must be text")
    return str(value).strip()


def _strings(data: dict, key: str, where: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise KnowledgeError(f"{where}: '{key}' must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _list_item(raw: Any, where: str) -> ListItem:
    if isinstance(raw, str | int):
        return ListItem(str(raw).strip())
    if isinstance(raw, dict) and raw.get("name"):
        sub = raw.get("items") or []
        if not isinstance(sub, list):
            raise KnowledgeError(f"{where}: list item 'items' must be a list")
        return ListItem(
            str(raw["name"]).strip(),
            str(raw["detail"]).strip() if raw.get("detail") else None,
            tuple(_list_item(s, where) for s in sub),
        )
    raise KnowledgeError(f"{where}: list items must be strings or {{name, detail, items}}")


def _lists(data: dict, where: str) -> tuple[KnowledgeList, ...]:
    raw = data.get("lists") or []
    if not isinstance(raw, list):
        raise KnowledgeError(f"{where}: 'lists' must be a list")
    out = []
    for lst in raw:
        if not isinstance(lst, dict) or not isinstance(lst.get("items"), list) or not lst["items"]:
            raise KnowledgeError(f"{where}: every list needs non-empty 'items'")
        title = str(lst["title"]).strip() if lst.get("title") else None
        out.append(KnowledgeList(title, tuple(_list_item(i, where) for i in lst["items"])))
    return tuple(out)


class _CommonFields(TypedDict):
    id: str
    kind: str
    aliases: tuple[str, ...]


def _parse_entry(kind: str, raw: dict, doc: dict, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{where}: every entry must be a mapping")
    entry_id = _text(raw, "id", where)
    where = f"{where} {entry_id}"
    if not re.fullmatch(r"[a-z]+\.[a-z0-9_.]+", entry_id) or not entry_id.startswith(
        {"glossary": "glossary.", "exam": "exam.", "term": "term.", "faq": "faq."}[kind]
    ):
        raise KnowledgeError(f"{where}: bad id")
    common: _CommonFields = {
        "id": entry_id,
        "kind": kind,
        "aliases": _strings(raw, "aliases", where),
    }
    if kind == "glossary":
        examples = []
        for ex in raw.get("examples") or []:
            if not isinstance(ex, dict) or not ex.get("en") or not ex.get("zh"):
                raise KnowledgeError(f"{where}: examples need 'en' and 'zh'")
            examples.append((str(ex["en"]).strip(), str(ex["zh"]).strip()))
        return Entry(
            **common,
            title=_text(raw, "term_zh", where),
            title_en=_text(raw, "term_en", where),
            title_hant=_text(raw, "term_zh_hant", where),
            definition_en=_text(raw, "definition_en", where),
            explanation=_text(raw, "explanation_zh", where),
            examples=tuple(examples),
        )
    if kind == "exam":
        number = raw.get("number")
        if not isinstance(number, int):
            raise KnowledgeError(f"{where}: 'number' must be an integer")
        return Entry(
            **common,
            title=_text(raw, "title", where),
            explanation=_text(raw, "explanation", where),
            number=number,
            page=_text(raw, "page", where, required=False),
            lists=_lists(raw, where),
        )
    if kind == "term":
        level, project = raw.get("level"), raw.get("project")
        if level not in LEVEL_NAMES:
            raise KnowledgeError(f"{where}: 'level' must be 1, 2 or 3")
        projects = doc.get("projects") or {}
        if project not in projects:
            raise KnowledgeError(f"{where}: 'project' must be one of {sorted(projects)}")
        return Entry(
            **common,
            title=_text(raw, "name", where),
            explanation=_text(raw, "explanation", where),
            level=level,
            project=project,
            project_title=str(projects[project]),
            topic=_text(raw, "topic", where),
        )
    # faq
    paraphrases = _strings(raw, "paraphrases", where)
    if len(paraphrases) < 5:
        raise KnowledgeError(f"{where}: at least 5 paraphrases are required")
    answer = _text(raw, "answer", where)
    return Entry(
        **common,
        title=_text(raw, "question", where),
        question=_text(raw, "question", where),
        explanation=answer,
        answer=answer,
        paraphrases=paraphrases,
        topic=_text(raw, "topic", where),
    )


def parse_faq_entry(raw: Any, where: str) -> Entry:
    """One FAQ entry validated as on load; KnowledgeError otherwise.

    The rules: id `faq.…`, question, topic, answer, at least 5 paraphrases. The admin page
    (dianxiaoer.knowledge.editor) checks an edit with it.
    """
    return _parse_entry("faq", raw, {}, where)


def shop_faq_file() -> Path:
    """The shop's FAQ overrides (SHOP_FAQ_OVERRIDES, default knowledge/faq_shop.yml)."""
    from dianxiaoer.core.settings import get_settings

    return get_settings().shop_faq_overrides


def _read_yaml(path: Path) -> Any:
    """A knowledge file's YAML ({} when empty); KnowledgeError when unreadable or invalid."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise KnowledgeError(f"cannot read {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path} is not valid YAML: {exc}") from exc


def load_overrides(path: Path) -> tuple[list[Entry], frozenset[str]]:
    """(entries, ids disabled) of a shop overrides file (SHOP_FAQ_OVERRIDES).

    faq.yml's schema, every entry validated like faq.yml's, plus an optional
    `disabled: true` that hides the entry (kept whole in the file, so it can be enabled
    again). An empty file has no entries.
    """
    doc = _read_yaml(path)
    raw_entries = doc.get("entries", []) if isinstance(doc, dict) else None
    if not isinstance(raw_entries, list):
        raise KnowledgeError(f"{path}: 'entries' must be a list")
    entries, disabled = [], set()
    for raw in raw_entries:
        entry = parse_faq_entry(raw, path.name)
        flag = raw.get("disabled", False)
        if not isinstance(flag, bool):
            raise KnowledgeError(f"{path.name} {entry.id}: 'disabled' must be true or false")
        entries.append(entry)
        if flag:
            disabled.add(entry.id)
    ids = Counter(e.id for e in entries)
    duplicated = [i for i, n in ids.items() if n > 1]
    if duplicated:
        raise KnowledgeError(f"{path.name}: duplicate ids: {duplicated}")
    return entries, frozenset(disabled)


def apply_overrides(
    entries: list[Entry], overrides: list[Entry], disabled: frozenset[str] = frozenset()
) -> list[Entry]:
    """`entries` with the shop's overrides.

    A shipped id is replaced in place, a new id appended, a disabled id left out.
    """
    by_id = {e.id: e for e in overrides}
    merged = [by_id.get(e.id, e) for e in entries]
    known = {e.id for e in entries}
    merged += [e for e in overrides if e.id not in known]
    return [e for e in merged if e.id not in disabled]


def load_entries(
    directory: Path = KNOWLEDGE_DIR, overrides: Path | Literal["shop"] | None = "shop"
) -> list[Entry]:
    """Load and validate every knowledge file in `directory`, the shop's FAQ merged.

    `overrides`: `"shop"` merges SHOP_FAQ_OVERRIDES when that file exists (what the bot
    answers with and `make data` trains on), a path merges that file, None none (the
    shipped entries, as the admin page compares them).
    """
    entries: list[Entry] = []
    for kind, filename in FILES.items():
        path = directory / filename
        doc = _read_yaml(path)
        raw_entries = doc.get("entries") if isinstance(doc, dict) else None
        if not isinstance(raw_entries, list) or not raw_entries:
            raise KnowledgeError(f"{path}: 'entries' must be a non-empty list")
        entries += [_parse_entry(kind, raw, doc, str(path.name)) for raw in raw_entries]
    ids = Counter(e.id for e in entries)
    duplicated = [i for i, n in ids.items() if n > 1]
    if duplicated:
        raise KnowledgeError(f"duplicate ids: {duplicated}")
    shop = shop_faq_file() if overrides == "shop" else overrides
    if shop is not None and shop.exists():
        entries = apply_overrides(entries, *load_overrides(shop))
    return entries


# --------------------------------------------------------------------------- ranking


class Thesaurus:
    """Colloquial variants -> the knowledge files' word (knowledge/synonyms.yml).

    Protected words (entry names) are matched first and kept as they are, so a variant
    such as 换成 cannot break a name such as 转换成本.
    """

    def __init__(self, mapping: dict[str, str], protected: tuple[str, ...] = ()) -> None:
        """Compile one alternation, longest first."""
        self.mapping = {k.lower(): v for k, v in mapping.items()}
        for word in protected:
            self.mapping.setdefault(word.lower(), word.lower())
        words = sorted(self.mapping, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(w) for w in words)) if words else None

    @classmethod
    def from_file(cls, path: Path, protected: tuple[str, ...] = ()) -> Thesaurus:
        """Load the synonyms file (missing file: no synonyms)."""
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        mapping = {
            str(variant): str(canonical)
            for canonical, variants in ((data or {}).get("synonyms") or {}).items()
            for variant in variants or []
        }
        return cls(mapping, protected)

    def apply(self, text: str) -> str:
        """Replace variants in `text` (lower-cased)."""
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.mapping[m.group(0)], text)


_NO_THESAURUS = Thesaurus({})


def clean_query(text: str, thesaurus: Thesaurus = _NO_THESAURUS) -> str:
    """Normalized, lower-cased text without question scaffolding or punctuation."""
    text = thesaurus.apply(normalize(text, max_chars=10_000).text.lower())
    text = _FILLER_RE.sub(" ", text)
    return _PUNCT_RE.sub(" ", text).strip()


def _compact(text: str) -> str:
    return _PUNCT_RE.sub("", normalize(text, max_chars=10_000).text.lower())


@lru_cache(maxsize=1)
def _jieba():
    """Return a jieba tokenizer of our own.

    Entry names added to it must not change how the process-wide tokenizer (used by
    Rasa's JiebaTokenizer) segments text.
    """
    import jieba

    jieba.setLogLevel(60)
    return jieba.Tokenizer()


def analyze(text: str, thesaurus: Thesaurus = _NO_THESAURUS) -> list[str]:
    """Index terms of a text: jieba words, CJK character bigrams and ASCII words."""
    cleaned = clean_query(text, thesaurus)
    terms = [
        "w:" + w
        for w in _jieba().cut(cleaned)
        if w.strip() and not _PUNCT_RE.fullmatch(w) and not w.isascii() and w not in _STOPWORDS
    ]
    terms += ["a:" + w for w in _ASCII_WORD.findall(cleaned)]
    for run in _CJK_RUN.findall(cleaned):
        if len(run) == 1:
            terms.append("c:" + run)
        terms += ["c:" + run[i : i + 2] for i in range(len(run) - 1)]
    return terms


def _units(compact: str) -> frozenset[str]:
    """ASCII words and CJK bigrams (single characters for 1-character runs) of a text."""
    units = set(_ASCII_WORD.findall(compact))
    for run in _CJK_RUN.findall(compact):
        units.update([run] if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
    return frozenset(units)


@dataclass
class Hit:
    """A ranked entry."""

    entry: Entry
    score: float
    matched_name: str | None = None


@dataclass
class Decision:
    """What to do with a question: answer, suggest or give up."""

    kind: str  # "answer" | "suggest" | "none"
    hits: list[Hit] = field(default_factory=list)

    @property
    def top(self) -> Hit | None:
        """The best hit, if any."""
        return self.hits[0] if self.hits else None


class KnowledgeBase:
    """Entries plus a BM25 index over them."""

    def __init__(self, entries: list[Entry], synonyms_file: Path | None = None) -> None:
        """Index `entries`; jieba learns every entry name so names stay whole words."""
        self.entries = entries
        # each name normalized once; reused by the thesaurus and the whole-name bonus
        compact_names = [[(c, n) for n in e.names if len(c := _compact(n)) >= 2] for e in entries]
        names = tuple(c for per_entry in compact_names for c, _ in per_entry)
        self.thesaurus = Thesaurus.from_file(
            synonyms_file or KNOWLEDGE_DIR / "synonyms.yml", protected=names
        )
        self.by_id = {e.id: e for e in entries}
        jieba = _jieba()
        for entry in entries:
            for name in entry.names:
                word = to_simplified(name).lower()
                if not word.isascii() and " " not in word and 2 <= len(word) <= 12:
                    jieba.add_word(word, 2000)
        self._docs: list[dict[str, float]] = []
        self._lengths: list[float] = []
        self._names: list[list[tuple[str, str, frozenset[str]]]] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for idx, entry in enumerate(entries):
            fields = {
                "names": " ".join(entry.names),
                "questions": " ".join([entry.question or "", *entry.paraphrases]),
                "body": " ".join([entry.explanation, entry.list_text(), entry.topic or ""]),
            }
            tf: dict[str, float] = defaultdict(float)
            length = 0.0
            for fname, text in fields.items():
                terms = analyze(text, self.thesaurus)
                weight = FIELD_WEIGHTS[fname]
                for term in terms:
                    tf[term] += weight
                length += weight * len(terms)
            self._docs.append(tf)
            self._lengths.append(length)
            for term in tf:
                postings[term].append(idx)
            self._names.append([(c, n, _units(c)) for c, n in compact_names[idx]])
        self._avg_len = sum(self._lengths) / max(len(self._lengths), 1)
        n_docs = len(entries)
        self._idf = {
            term: math.log(1 + (n_docs - len(docs) + 0.5) / (len(docs) + 0.5))
            for term, docs in postings.items()
        }
        self._postings = dict(postings)
        # trained on first use: paraphrase_guess (False: too few paraphrases to train)
        self._paraphrase_model: LinearIntentModel | Literal[False] | None = None

    def search(self, question: str, limit: int = 5) -> list[Hit]:
        """Entries ranked for `question`, best first."""
        terms = Counter(analyze(question, self.thesaurus))
        compact_q = _compact(clean_query(question).replace(" ", "")) or _compact(question)
        scores: dict[int, float] = defaultdict(float)
        for term, qtf in terms.items():
            idf = self._idf.get(term)
            if idf is None:
                continue
            for idx in self._postings[term]:
                tf = self._docs[idx][term]
                norm = BM25_K1 * (1 - BM25_B + BM25_B * self._lengths[idx] / self._avg_len)
                scores[idx] += idf * tf * (BM25_K1 + 1) / (tf + norm) * (1 + math.log(qtf))
        matched: dict[int, str] = {}
        if compact_q:
            q_units = _units(compact_q)
            for idx, names in enumerate(self._names):
                best = 0.0
                for compact_name, name, units in names:
                    if compact_name in compact_q:
                        # the whole name is in the question: more so the less else there is
                        value = 0.5 + len(compact_name) / len(compact_q)
                    else:
                        # most of the name's words/bigrams are ("CRM分类" ~ "CRM有哪几类")
                        share = len(units & q_units) / len(units) if units else 0.0
                        value = 0.5 * share if share >= 0.5 else 0.0
                    if value > best:
                        best, matched[idx] = value, name
                if best:
                    scores[idx] += NAME_BONUS * best
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self.entries[kv[0]].id))
        return [Hit(self.entries[i], s, matched.get(i)) for i, s in ranked[:limit]]

    def decide(
        self,
        question: str,
        min_score: float,
        clear_ratio: float,
        max_suggestions: int = 3,
        paraphrase_min_confidence: float | None = None,
    ) -> Decision:
        """Answer if the top hit is good and clearly ahead, suggest if close, else none.

        With `paraphrase_min_confidence`, a question BM25 is unsure about is still
        answered when the paraphrase classifier names one of BM25's candidates with at
        least that confidence: word overlap misses "寄到武汉要几天" for "下单后几天能收到",
        character n-grams learnt from the paraphrases do not.
        """
        ranked = self.search(question, limit=max(max_suggestions, PARAPHRASE_CANDIDATES))
        hits = [h for h in ranked if h.score >= min_score]
        if hits and (len(hits) == 1 or hits[0].score >= clear_ratio * hits[1].score):
            return Decision("answer", hits[:1])
        if paraphrase_min_confidence is not None and ranked:
            guess = self.paraphrase_guess(question)
            hit = next((h for h in ranked if guess and h.entry.id == guess[0]), None)
            if hit and guess and guess[1] >= paraphrase_min_confidence:
                return Decision("answer", [hit])
        if not hits:
            return Decision("none")
        close = [h for h in hits if h.score * clear_ratio >= hits[0].score]
        return Decision("suggest", close[:max_suggestions])

    def paraphrase_guess(self, question: str) -> tuple[str, float] | None:
        """The entry whose paraphrases `question` reads most like, with a confidence.

        A linear model over character n-grams (`dianxiaoer.nlu.linear`) trained on the
        question, paraphrases and names of every entry that has paraphrases (the FAQ);
        trained on first use (well under a second) and rebuilt with the knowledge base.
        """
        if self._paraphrase_model is None:
            self._paraphrase_model = self._train_paraphrase_model() or False
        if not self._paraphrase_model or not question.strip():
            return None
        return self._paraphrase_model.rank(normalize(question, 10_000).text, 1)[0]

    def _train_paraphrase_model(self) -> LinearIntentModel | None:
        from dianxiaoer.nlu.linear import LinearIntentModel

        texts, labels = [], []
        for entry in self.entries:
            if len(entry.paraphrases) < MIN_PARAPHRASES:
                continue
            for text in (entry.question or "", *entry.paraphrases, *entry.names):
                if text.strip():
                    texts.append(normalize(text, 10_000).text)
                    labels.append(entry.id)
        if len(set(labels)) < 2:
            return None
        return LinearIntentModel.fit(texts, labels)


@lru_cache(maxsize=2)
def _cached_kb(directory: str, stamp: tuple, shop: str) -> KnowledgeBase:
    entries = load_entries(Path(directory), overrides=None)  # shipped files must load
    if Path(shop).exists():
        try:
            entries = apply_overrides(entries, *load_overrides(Path(shop)))
        except KnowledgeError:
            # The admin page validates before it writes, so this is a hand edit gone
            # wrong: the shipped entries beat failing every question. Logged once per
            # version of the files (the cache keeps the result).
            logger.exception("FAQ overrides %s refused; answering without them", shop)
    return KnowledgeBase(entries, Path(directory) / "synonyms.yml")


def get_knowledge_base(directory: Path = KNOWLEDGE_DIR) -> KnowledgeBase:
    """The knowledge base for `directory`, rebuilt when a file of it changes.

    Its files are the knowledge files, the synonyms and the shop's FAQ overrides
    (SHOP_FAQ_OVERRIDES, the admin page's edits): a few `os.stat` per call, BM25 and the
    paraphrase model rebuilt only on a change, so an edit applies without a restart.
    """
    shop = shop_faq_file()
    stamp = (
        *((name, file_stamp(directory / name)) for name in (*FILES.values(), "synonyms.yml")),
        (str(shop), file_stamp(shop)),
    )
    return _cached_kb(str(directory), stamp, str(shop))


def decide_by_policy(question: str, kb: KnowledgeBase | None = None) -> Decision:
    """Answer, suggest or none for `question` with the thresholds of config/policy.yml."""
    from dianxiaoer.core.policy import get_policy

    policy = get_policy()
    return (kb or get_knowledge_base()).decide(
        question,
        min_score=policy["knowledge.min_score"],
        clear_ratio=policy["knowledge.clear_ratio"],
        max_suggestions=policy["knowledge.max_suggestions"],
        paraphrase_min_confidence=policy["knowledge.paraphrase_min_confidence"],
    )


def is_english_question(text: str) -> bool:
    """True if most letters of the question are Latin (answer in English first)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if c.isascii())
    return latin / len(letters) >= 0.5


def answer_response(entry: Entry, policy_values: dict[str, Any], english: bool = False):
    """The response name and template values that present `entry`.

    Wording lives in the domain's responses; this only picks one and fills its fields.
    """
    if entry.kind == "faq":
        assert entry.answer is not None  # every FAQ entry has one (_parse_entry)
        return "utter_knowledge_faq", {
            "title": entry.title,
            "answer": entry.answer.format(**policy_values),
        }
    if entry.kind == "glossary":
        example_en, example_zh = entry.examples[0] if entry.examples else ("", "")
        values: dict[str, str | int | None] = {
            "title": entry.title,
            "title_en": entry.title_en,
            "explanation": entry.explanation,
            "definition_en": entry.definition_en,
            "example_en": example_en,
            "example_zh": example_zh,
        }
        if english:
            name = (
                "utter_knowledge_glossary_en"
                if entry.examples
                else "utter_knowledge_glossary_en_plain"
            )
        else:
            name = (
                "utter_knowledge_glossary" if entry.examples else "utter_knowledge_glossary_plain"
            )
        return name, values
    if entry.kind == "term":
        return "utter_knowledge_term", {
            "title": entry.title,
            "stars": "★" * (entry.level or 1),
            "level_name": LEVEL_NAMES[entry.level or 1],
            "project": entry.project,
            "project_title": entry.project_title,
            "explanation": entry.explanation,
        }
    values = {
        "title": entry.title,
        "number": entry.number,
        "page": entry.page or "",
        "explanation": entry.explanation,
        "list_text": entry.list_text(),
    }
    return ("utter_knowledge_exam_list" if entry.lists else "utter_knowledge_exam"), values
