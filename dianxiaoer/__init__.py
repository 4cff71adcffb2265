"""店小二 (dianxiaoer): domain logic of the shop assistant, free of Rasa SDK imports.

Sub-modules load their heavy resources (OpenCC tables, jieba, spaCy) lazily, on first use.
"""

__version__ = "0.1.0"
