"""Custom Rasa 3.6 NLU graph components (registered in config.yml by module path)."""
