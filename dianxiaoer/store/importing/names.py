"""The imported vocabulary file: product names (and synonyms) the entity extractor learns.

`import-catalogue` keeps one entry per product id in SHOP_IMPORTED_VOCABULARY_FILE
(default knowledge/vocabulary_imported.yml), in the schema of knowledge/vocabulary.yml
plus the product `id`, so a re-imported product replaces its own entry (a renamed product
loses its old name) and products of earlier imports stay.
`dianxiaoer.knowledge.vocabulary.load_vocabulary` merges it at the next start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dianxiaoer.core.files import write_atomically
from dianxiaoer.knowledge.vocabulary import form_key, read_vocabulary

HEADER = """\
# Product names imported by `make import-catalogue` (dianxiaoer/store/importing; docs/import.md).
# Rewritten by every catalogue import: one entry per product id. Merged with
# knowledge/vocabulary.yml when the servers start (that file wins a clash); the jieba
# dictionary (`make data`) includes these names too.
"""


def read_entries(path: Path) -> dict[str, dict[str, Any]]:
    """The entries of the imported vocabulary file by product id ({} when there is none)."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    listed = (data.get("product") if isinstance(data, dict) else None) or []
    entries: dict[str, dict[str, Any]] = {}
    for entry in listed:
        if isinstance(entry, dict) and entry.get("name"):
            # an entry added by hand has no id: keep it under its name
            key = str(entry.get("id") or f"name:{entry['name']}")
            entries[key] = {
                "id": entry.get("id"),
                "name": str(entry["name"]),
                "synonyms": [str(s) for s in entry.get("synonyms") or []],
            }
    return entries


def curated_forms(vocabulary_file: Path | None = None) -> dict[str, str]:
    """Surface forms of the curated vocabulary (SHOP_VOCABULARY_FILE) -> what they mean."""
    return {
        form_key(form): f"{term.entity} {term.name}"
        for term in read_vocabulary(vocabulary_file)
        for form in term.surface_forms
    }


def write_entries(path: Path, entries: dict[str, dict[str, Any]]) -> None:
    """Write the file atomically (a server starting meanwhile reads the old or the new one)."""
    product = []
    for entry in sorted(entries.values(), key=lambda e: (str(e.get("id") or ""), e["name"])):
        item: dict[str, Any] = {"name": entry["name"]}
        if entry.get("synonyms"):
            item["synonyms"] = list(entry["synonyms"])
        if entry.get("id"):
            item["id"] = entry["id"]
        product.append(item)
    text = HEADER + yaml.safe_dump(
        {"product": product}, allow_unicode=True, sort_keys=False, width=100
    )
    write_atomically(path, text)
