"""Collection filter for the recurrent-op tests: only the LSTM kernel has two input paths, so the fixture
``lstm_path`` (``test_recurrent_ops.py``) runs its "stacked" value for LSTM only. The other kinds' "stacked"
combinations do not exist; they are removed at collection instead of being reported as skipped."""


def pytest_collection_modifyitems(items):
    def exists(item):
        callspec = getattr(item, "callspec", None)
        if callspec is None or item.module.__name__.rsplit(".", 1)[-1] != "test_recurrent_ops":
            return True
        params = callspec.params
        return not (params.get("lstm_path") == "stacked" and params.get("kind", "lstm") != "lstm")

    items[:] = [item for item in items if exists(item)]
