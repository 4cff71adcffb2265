"""`python -m examples.order_service --port N --token T`: serve the demo orders."""

from examples.order_service.server import main

if __name__ == "__main__":
    raise SystemExit(main())
