"""``keras.losses`` (being filled in)."""
