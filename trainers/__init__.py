"""Training recipes and data preparation for the SR-LLM adapter (needs the ``train`` extra)."""
