"""keras.utils: model_to_dot / plot_model, get_source_inputs, warmstart_embedding_matrix, to_ordinal,
interactive logging, the enqueuers and TimedThread."""

import logging
import threading
import time

import numpy as np
import pytest

from featherflow import keras
from featherflow.keras.utils import model_visualization


def _functional():
    keras.backend.clear_session()
    inputs = keras.Input((4,), name="features")
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    left = keras.layers.Dense(1, name="left")(hidden)
    right = keras.layers.Dense(2, name="right")(hidden)
    return keras.Model(inputs, [left, right], name="two_heads")


def test_model_to_dot_draws_layers_and_connections():
    pytest.importorskip("pydot")
    model = _functional()
    dot = keras.utils.model_to_dot(model, show_shapes=True, show_layer_activations=True, show_trainable=True)
    labels = {node.get_name(): node.get_label() for node in dot.get_nodes() if node.get_name() not in ("node",)}
    by_name = {label.split(":")[0]: name for name, label in labels.items()}
    assert set(by_name) == {"features", "hidden", "left", "right"}
    hidden_label = labels[by_name["hidden"]]
    assert "Dense" in hidden_label and "relu" in hidden_label and "(?, 4)" in hidden_label and "(?, 3)" in hidden_label
    edges = {(e.get_source(), e.get_destination()) for e in dot.get_edges()}
    assert edges == {(by_name["features"], by_name["hidden"]), (by_name["hidden"], by_name["left"]),
                     (by_name["hidden"], by_name["right"])}
    sliced = keras.utils.model_to_dot(model, layer_range=["hidden", "left"])
    assert len([n for n in sliced.get_nodes() if n.get_name() != "node"]) == 2
    outer = keras.Sequential([keras.Input((4,)), keras.Sequential([keras.layers.Dense(2, name="inner")], name="sub")])
    nested = keras.utils.model_to_dot(outer, expand_nested=True)
    assert any(g.get_name() == "cluster_sub" for g in nested.get_subgraphs())
    with pytest.raises(ValueError, match="layer_range"):
        keras.utils.model_to_dot(model, layer_range=["nope", "left"])


def test_plot_model_needs_graphviz(tmp_path):
    pytest.importorskip("pydot")
    model = _functional()
    if model_visualization.check_graphviz():  # graphviz installed: a real PNG
        keras.utils.plot_model(model, to_file=str(tmp_path / "m.png"), show_shapes=True)
        assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        with pytest.raises(ImportError, match="install graphviz"):
            keras.utils.plot_model(model, to_file=str(tmp_path / "m.png"))


def test_get_source_inputs_and_warmstart(tmp_path):
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    merged = keras.layers.add([keras.layers.Dense(2)(a), b])
    out = keras.layers.Dense(1)(merged)
    sources = keras.utils.get_source_inputs(out)
    assert [t.name for t in sources] == ["a", "b"]
    assert keras.utils.get_source_inputs(a) == [a]
    vocab_file = tmp_path / "vocab.txt"
    vocab_file.write_text("the\ncat\nsat\n")
    base = np.arange(6.0).reshape(3, 2)
    new = keras.utils.warmstart_embedding_matrix(str(vocab_file), ["dog", "sat", "the"], base, "zeros").numpy()
    np.testing.assert_array_equal(new, [[0.0, 0.0], [4.0, 5.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="at least one token"):
        keras.utils.warmstart_embedding_matrix([], ["a"], base)


def test_to_ordinal_and_pack_unpack():
    np.testing.assert_array_equal(keras.utils.to_ordinal([[2], [0]], num_classes=3), [[1, 1], [0, 0]])
    assert keras.utils.to_ordinal(np.array([1, 3])).shape == (2, 3)
    assert keras.utils.unpack_x_y_sample_weight((1, 2)) == (1, 2, None)
    assert keras.utils.pack_x_y_sample_weight(1, 2, 3) == (1, 2, 3)


def test_interactive_logging_switches_to_the_logging_module(capsys, caplog):
    keras.utils.disable_interactive_logging()
    try:
        assert not keras.utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="keras"):
            keras.utils.Progbar(2).update(2, finalize=True)
        assert capsys.readouterr().out == "" and caplog.records
    finally:
        keras.utils.enable_interactive_logging()
    keras.utils.Progbar(2).update(2, finalize=True)
    assert "2/2" in capsys.readouterr().out


class Squares(keras.utils.Sequence):
    def __init__(self):
        super().__init__()
        self.epochs = 0

    def __len__(self):
        return 4

    def __getitem__(self, index):
        time.sleep(0.001 * (4 - index))  # later items are faster: the order must still hold
        return np.array([index * index + 100 * self.epochs])

    def on_epoch_end(self):
        self.epochs += 1


def test_ordered_enqueuer_keeps_order_across_epochs():
    enqueuer = keras.utils.OrderedEnqueuer(Squares())
    enqueuer.start(workers=3, max_queue_size=3)
    try:
        batches = enqueuer.get()
        values = [int(next(batches)[0]) for _ in range(8)]
    finally:
        enqueuer.stop()
    assert values == [0, 1, 4, 9, 100, 101, 104, 109]
    assert not enqueuer.is_running()


def test_generator_enqueuer_ends_with_the_generator_and_raises_its_errors():
    enqueuer = keras.utils.GeneratorEnqueuer(iter(range(5)))
    enqueuer.start(workers=2)
    assert list(enqueuer.get()) == [0, 1, 2, 3, 4]

    def broken():
        yield 1
        raise RuntimeError("bad file")

    failing = keras.utils.GeneratorEnqueuer(broken())
    failing.start()
    out = failing.get()
    assert next(out) == 1
    with pytest.raises(RuntimeError, match="bad file"):
        next(out)


def test_timed_thread_calls_on_interval_until_stopped():
    calls = []

    class Tick(keras.utils.TimedThread):
        def on_interval(self):
            calls.append(threading.current_thread().name)

    with Tick(0.01) as tick:
        deadline = time.time() + 2
        while len(calls) < 3 and time.time() < deadline:
            time.sleep(0.005)
        assert tick.is_alive()
    tick.thread.join(1)
    assert len(calls) >= 3 and not tick.is_alive()
    with pytest.raises(NotImplementedError):
        keras.utils.TimedThread(1).on_interval()
