"""Rasa action server adapters; the logic they call lives in the `dianxiaoer` package."""
