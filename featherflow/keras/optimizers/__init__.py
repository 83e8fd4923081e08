"""``keras.optimizers`` (being filled in)."""
