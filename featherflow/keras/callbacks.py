"""``keras.callbacks`` (being filled in)."""
