"""A small order service implementing docs/order-api.md over the demo orders.

It stands for a shop's own order system (run as a separate process): `python -m
examples.order_service --port 8700 --token secret`. See README.md in this folder.
"""
