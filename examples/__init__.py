"""Examples for shops: sample import files and the example order service."""
