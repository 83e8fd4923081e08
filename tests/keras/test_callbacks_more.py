"""BaseLogger, RemoteMonitor (against a real HTTP server on 127.0.0.1), SidecarEvaluator with
SidecarEvaluatorModelExport, and keras.callbacks.experimental."""

import http.server
import json
import os
import threading
import urllib.parse

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse", metrics=["mae"])
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 2)).astype("float32")
    return x, x @ np.array([[1.0], [-2.0]], "float32") + 0.5


def test_base_logger_averages_batch_values():
    logger = keras.callbacks.BaseLogger(stateful_metrics=["seen_last"])
    logger.set_params({"metrics": ["loss", "seen_last"]})
    logger.on_epoch_begin(0)
    logger.on_batch_end(0, {"loss": 1.0, "size": 3, "seen_last": 5.0})
    logger.on_batch_end(1, {"loss": 3.0, "size": 1, "seen_last": 7.0})
    logs = {}
    logger.on_epoch_end(0, logs)
    assert logs == {"loss": 1.5, "seen_last": 7.0}  # (3 * 1 + 1 * 3) / 4; a stateful value is kept as is


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], self.headers.get("X-Run"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    _Recorder.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.received
    server.shutdown()
    server.server_close()


def test_remote_monitor_posts_each_epoch(recorder):
    root, received = recorder
    model = _model()
    x, y = _data()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[
        keras.callbacks.RemoteMonitor(root=root, headers={"X-Run": "7"}),
        keras.callbacks.RemoteMonitor(root=root, path="/json", send_as_json=True)])
    form = [r for r in received if r[0] == "/publish/epoch/end/"]
    as_json = [r for r in received if r[0] == "/json"]
    assert len(form) == 2 and len(as_json) == 2
    path, content_type, run, body = form[1]
    assert content_type == "application/x-www-form-urlencoded" and run == "7"
    sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
    assert sent["epoch"] == 1 and sent["loss"] == pytest.approx(history.history["loss"][1])
    assert json.loads(as_json[0][3])["mae"] == pytest.approx(history.history["mae"][0])
    assert as_json[0][1] == "application/json"


def test_remote_monitor_logs_an_unreachable_server(caplog):
    monitor = keras.callbacks.RemoteMonitor(root="http://127.0.0.1:9")  # the discard port: refused
    monitor.on_epoch_end(0, {"loss": 1.0})
    assert "could not reach RemoteMonitor" in caplog.text


def test_sidecar_evaluator_and_best_model_export(tmp_path):
    trained = _model()
    x, y = _data()
    checkpoints = tmp_path / "checkpoints"
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=trained, optimizer=trained.optimizer),
                                         str(checkpoints), max_to_keep=5)
    losses = []
    for _ in range(3):
        trained.fit(x, y, epochs=1, verbose=0)
        losses.append(trained.evaluate(x, y, verbose=0)[0])
        manager.save()
    evaluated = _model()
    export = keras.callbacks.SidecarEvaluatorModelExport(
        export_filepath=str(tmp_path / "best" / "model-{epoch}.weights.npz"),
        checkpoint_filepath=str(checkpoints), monitor="loss", save_weights_only=True)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    keras.utils.SidecarEvaluator(evaluated, data, str(checkpoints), max_evaluations=3, callbacks=[export]).start()
    # the evaluator restored the last checkpoint: it predicts as the trained model does
    np.testing.assert_allclose(evaluated.predict(x, verbose=0), trained.predict(x, verbose=0), rtol=1e-6)
    saved = sorted(os.listdir(tmp_path / "best"))
    # the newest checkpoint seen is ckpt-3 (weights in checkpoint format also update the `checkpoint` state file)
    assert saved == ["checkpoint", "model-3.weights.npz"]
    assert export.best == pytest.approx(losses[-1], rel=1e-5)


def test_experimental_namespace():
    assert keras.callbacks.experimental.BackupAndRestore is keras.callbacks.BackupAndRestore
    with pytest.raises(AttributeError):
        _ = keras.callbacks.experimental.UpdateEmbeddingCallback
