"""``keras.saving`` (being filled in)."""
