"""``keras.models`` (being filled in)."""
