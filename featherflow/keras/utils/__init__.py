"""``keras.utils`` (being filled in)."""
