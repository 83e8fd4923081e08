"""``keras.wrappers`` (being filled in)."""
