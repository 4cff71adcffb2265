"""Staff training: glossary quiz, role-play and its scorecard, the training report.

No rasa; the report reads the shop store (action environment).
"""
