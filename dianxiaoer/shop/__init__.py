"""The shop's rules: orders, journeys, pre-sale, complaints, fallback, handoff.

Pure functions over plain values, importable from both environments.
"""
