"""``keras.datasets`` (being filled in)."""
