"""FAQ and glossary: loading, retrieval, vocabulary, unanswered log.

Importable from both environments (no rasa, no SQLAlchemy).
"""
