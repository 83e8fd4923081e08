"""keras.utils.audio_dataset_from_directory on real WAV files, and utils.experimental.DatasetCreator in fit."""

import wave

import numpy as np
import pytest

import featherflow as tf
from featherflow import keras


def _write(path, samples, rate=8000):
    samples = np.asarray(samples, "<i2")
    samples = samples[:, None] if samples.ndim == 1 else samples
    with wave.open(str(path), "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


@pytest.fixture
def clips(tmp_path):
    rng = np.random.default_rng(0)
    data = {}
    for label, lengths in (("cat", (4, 7, 5)), ("dog", (6, 3))):
        (tmp_path / label).mkdir()
        for i, length in enumerate(lengths):
            samples = rng.integers(-32768, 32767, size=length)
            _write(tmp_path / label / f"{i}.wav", samples)
            data[(label, i)] = samples / 32768.0
    (tmp_path / "cat" / "notes.txt").write_text("not audio")
    return tmp_path, data


def test_waveforms_labels_and_padding(clips, capsys):
    root, data = clips
    ds = keras.utils.audio_dataset_from_directory(str(root), batch_size=2, shuffle=False)
    assert "Found 5 files belonging to 2 classes." in capsys.readouterr().out
    batches = list(ds.as_numpy_iterator())
    assert [b[0].shape for b in batches] == [(2, 7, 1), (2, 6, 1), (1, 3, 1)]  # each batch padded to its longest
    expected = [data[("cat", 0)], data[("cat", 1)], data[("cat", 2)], data[("dog", 0)], data[("dog", 1)]]
    flat = [clip for audio, _ in batches for clip in audio]
    for clip, want in zip(flat, expected):
        np.testing.assert_allclose(clip[:len(want), 0], want, rtol=0, atol=0)
        assert not clip[len(want):].any()
    assert np.concatenate([labels for _, labels in batches]).tolist() == [0, 0, 0, 1, 1]
    assert ds.class_names == ["cat", "dog"]


def test_fixed_length_categorical_and_splits(clips):
    root, data = clips
    ds = keras.utils.audio_dataset_from_directory(str(root), batch_size=None, output_sequence_length=5,
                                                  label_mode="categorical", shuffle=False)
    items = list(ds.as_numpy_iterator())
    assert all(audio.shape == (5, 1) for audio, _ in items)
    np.testing.assert_allclose(items[1][0][:, 0], data[("cat", 1)][:5])  # truncated
    np.testing.assert_allclose(items[4][0][:3, 0], data[("dog", 1)])  # zero-padded
    assert items[4][1].tolist() == [0.0, 1.0]
    train, val = keras.utils.audio_dataset_from_directory(str(root), validation_split=0.4, subset="both", seed=1,
                                                          output_sequence_length=4, batch_size=8)
    sizes = [sum(len(a) for a, _ in d.as_numpy_iterator()) for d in (train, val)]
    assert sizes == [3, 2]
    audio_only = keras.utils.audio_dataset_from_directory(str(root), labels=None, output_sequence_length=3,
                                                          batch_size=5, shuffle=False)
    assert next(audio_only.as_numpy_iterator()).shape == (5, 3, 1)


def test_stereo_rates_and_errors(tmp_path):
    (tmp_path / "a").mkdir()
    stereo = np.array([[100, -200], [300, -400]])
    _write(tmp_path / "a" / "s.wav", stereo, rate=16000)
    audio, _ = next(keras.utils.audio_dataset_from_directory(str(tmp_path), sampling_rate=16000).as_numpy_iterator())
    np.testing.assert_allclose(audio[0], stereo / 32768.0)
    with pytest.raises(ValueError, match="cannot resample"):
        list(keras.utils.audio_dataset_from_directory(str(tmp_path), sampling_rate=8000).as_numpy_iterator())
    with pytest.raises(ValueError, match="ragged"):
        keras.utils.audio_dataset_from_directory(str(tmp_path), ragged=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No audio files found"):
        keras.utils.audio_dataset_from_directory(str(tmp_path / "empty"), labels=None)


def test_dataset_creator_in_fit_and_evaluate():
    calls = []

    def dataset_fn(input_context):
        calls.append((input_context.num_input_pipelines, input_context.input_pipeline_id,
                      input_context.get_per_replica_batch_size(4)))
        x = np.arange(16.0).reshape(8, 2).astype("float32")
        return tf.data.Dataset.from_tensor_slices((x, x.sum(1, keepdims=True))).batch(4).repeat()

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.001), "mse")
    creator = keras.utils.experimental.DatasetCreator(dataset_fn)
    history = model.fit(creator, epochs=2, steps_per_epoch=2, verbose=0)
    assert len(history.history["loss"]) == 2 and calls[0] == (1, 0, 4)
    assert np.isfinite(model.evaluate(creator, steps=2, verbose=0))
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(creator, epochs=1, verbose=0)
    with pytest.raises(TypeError, match="must return a Dataset"):
        model.fit(keras.utils.experimental.DatasetCreator(lambda ctx: [1, 2]), steps_per_epoch=1, verbose=0)
    with pytest.raises(TypeError, match="callable"):
        keras.utils.experimental.DatasetCreator(3)
