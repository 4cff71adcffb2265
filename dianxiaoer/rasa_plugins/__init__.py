"""Rasa server plugins: NLU components, NLG, channels, tracker store, patches of Rasa.

The Rasa environment only (.venv): these modules import `rasa` and never the shop store.
"""
