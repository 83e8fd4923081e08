"""``keras.metrics`` (being filled in)."""
