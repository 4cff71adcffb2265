"""Settings, policy, text, clock, auth and roster.

Importable from both environments: no rasa, no rasa_sdk, no SQLAlchemy.
"""
