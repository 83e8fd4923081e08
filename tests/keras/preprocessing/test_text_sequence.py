"""keras.preprocessing.text / .sequence against values tf_keras 2.21 produced once
(``fixtures/preprocessing_tf.json``, from ``fixtures/make_preprocessing_fixtures.py``)."""

import json
import os
import random
import warnings

import numpy as np
import pytest

from featherflow import keras
from featherflow.keras.preprocessing import _deprecation, sequence, text

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "preprocessing_tf.json")) as f:
    REF = json.load(f)
TEXTS = REF["texts"]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def test_word_helpers():
    assert [text.text_to_word_sequence(t) for t in TEXTS] == REF["words"]
    assert [text.text_to_word_sequence(t, filters=".!", lower=False, split=",") for t in TEXTS] == REF["words_custom"]
    assert [text.hashing_trick(t, 20, hash_function="md5") for t in TEXTS] == REF["md5"]
    indices = text.one_hot("the cat the", 10)
    assert len(indices) == 3 and indices[0] == indices[2] and all(1 <= i < 10 for i in indices)


@pytest.mark.parametrize("name", ["plain", "oov", "char", "nolower"])
def test_tokenizer(name):
    ref = REF["tokenizers"][name]
    tok = text.Tokenizer(**ref["kwargs"])
    tok.fit_on_texts(TEXTS)
    assert tok.word_index == ref["word_index"]
    assert dict(tok.word_counts) == ref["word_counts"] and tok.document_count == ref["document_count"]
    assert tok.texts_to_sequences(TEXTS + ["unseen words the cat"]) == ref["sequences"]
    assert tok.sequences_to_texts(tok.texts_to_sequences(TEXTS)) == ref["texts_back"]
    for mode in ("binary", "count", "freq", "tfidf"):
        np.testing.assert_allclose(tok.texts_to_matrix(TEXTS[:3], mode=mode), ref[mode], rtol=1e-12)
    mine, theirs = json.loads(tok.to_json())["config"], json.loads(ref["json"])["config"]
    for key in ("word_counts", "word_docs", "index_docs", "index_word", "word_index"):  # JSON strings inside
        mine[key], theirs[key] = json.loads(mine[key]), json.loads(theirs[key])  # (word_docs' order follows set())
    assert mine == theirs
    restored = text.tokenizer_from_json(ref["json"])  # tf.keras's JSON loads into featherflow's Tokenizer
    assert restored.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)


def test_tokenizer_errors():
    with pytest.raises(ValueError, match="Specify a dimension"):
        text.Tokenizer().texts_to_matrix(["a"])
    tok = text.Tokenizer(num_words=3)
    with pytest.raises(ValueError, match="Fit the Tokenizer"):
        tok.sequences_to_matrix([[1]], mode="tfidf")
    with pytest.raises(ValueError, match="Unknown vectorization mode"):
        tok.sequences_to_matrix([[1]], mode="onehot")
    with pytest.raises(TypeError, match="Unrecognized keyword"):
        text.Tokenizer(lowercase=True)


def test_sequence_helpers():
    data = np.array([[i] for i in range(50)])
    gen = sequence.TimeseriesGenerator(data, data, length=10, sampling_rate=2, stride=3, batch_size=4, reverse=True,
                                       start_index=2, end_index=45)
    assert len(gen) == REF["timeseries"]["len"]
    for i, (x, y) in enumerate(REF["timeseries"]["batches"]):
        got_x, got_y = gen[i]
        assert got_x.tolist() == x and got_y.tolist() == y
    assert isinstance(gen, keras.utils.Sequence)
    np.testing.assert_allclose(sequence.make_sampling_table(10, sampling_factor=1e-3), REF["sampling_table"])
    random.seed(7)
    couples, labels = sequence.skipgrams([1, 2, 0, 3, 4, 5], vocabulary_size=8, window_size=2, seed=11)
    assert couples == REF["skipgrams"]["couples"] and labels == REF["skipgrams"]["labels"]
    random.seed(7)
    couples, labels = sequence.skipgrams([1, 2, 3], vocabulary_size=5, window_size=1, negative_samples=0.0,
                                         shuffle=False, categorical=True)
    assert couples == REF["skipgrams_plain"]["couples"] and labels == REF["skipgrams_plain"]["labels"]
    padded = sequence.pad_sequences([[1, 2, 3], [4], [5, 6]], maxlen=2, padding="post", truncating="pre", value=-1)
    assert padded.tolist() == REF["pad"]
    with pytest.raises(ValueError, match="same length"):
        sequence.TimeseriesGenerator(data, data[:3], length=2)


def test_deprecated_names_warn_once_naming_the_replacement(monkeypatch):
    monkeypatch.setattr(_deprecation, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sequence.pad_sequences([[1]])
        sequence.pad_sequences([[1]])
        text.Tokenizer()
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 2
    assert "keras.utils.pad_sequences" in messages[0] and "keras.layers.TextVectorization" in messages[1]


def test_namespace_matches_tf_keras():
    assert keras.preprocessing.sequence.pad_sequences is sequence.pad_sequences
    assert keras.preprocessing.text_dataset_from_directory is keras.utils.text_dataset_from_directory
    assert keras.preprocessing.timeseries_dataset_from_array is keras.utils.timeseries_dataset_from_array
