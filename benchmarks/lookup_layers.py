"""Token lookups of the preprocessing layers on 200,000 tokens: Hashing, HashedCrossing, StringLookup,
IntegerLookup (forward and inverted) and TextVectorization's lookup, next to tf.keras's layers (tf_keras, when
installed) on the same tokens in the same process.

The tokens follow a Zipf law over a 5,000-word vocabulary (3,000 of them known to the lookups), as words in text
do. Each time is the median of ``--repeats`` calls; the ratio is featherflow's time over tf.keras's.

Run: ``.venv-bench/bin/python benchmarks/lookup_layers.py [--tokens 200000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import os

import _harness as h
import numpy as np


def cases(keras, tokens, ints, words, to_input):
    """``{name: callable}`` of the layer calls to time, built with ``keras`` (featherflow's or tf.keras)."""
    layers = keras.layers
    vocabulary = [w.decode() for w in words[:3000]]
    int_vocabulary = list(range(3, 21_000, 7))[:2000]
    text_tokens = to_input(tokens.reshape(-1, 1))
    strings, numbers = to_input(tokens), to_input(ints)
    hashing = layers.Hashing(num_bins=1000)
    salted = layers.Hashing(num_bins=1000, salt=7)
    int_hashing = layers.Hashing(num_bins=1000)
    crossing = layers.HashedCrossing(num_bins=1000)
    lookup = layers.StringLookup(vocabulary=vocabulary, mask_token="w4999")
    hashed_oov = layers.StringLookup(vocabulary=vocabulary, num_oov_indices=3)
    int_lookup = layers.IntegerLookup(vocabulary=int_vocabulary, mask_token=0)
    inverse = layers.StringLookup(vocabulary=vocabulary, invert=True)
    ids = to_input(np.asarray(lookup(strings)))
    vectorize = layers.TextVectorization(vocabulary=vocabulary, standardize=None, split=None)
    column, other = to_input(tokens.reshape(-1)[:, None]), to_input(ints.reshape(-1)[:, None] % 50)
    return {
        "Hashing (strings)": lambda: hashing(strings),
        "Hashing (strings, salt)": lambda: salted(strings),
        "Hashing (integers)": lambda: int_hashing(numbers),
        "HashedCrossing (string x int)": lambda: crossing((column, other)),
        "StringLookup (mask token)": lambda: lookup(strings),
        "StringLookup (3 OOV buckets)": lambda: hashed_oov(strings),
        "IntegerLookup (mask token)": lambda: int_lookup(numbers),
        "StringLookup (invert)": lambda: inverse(ids),
        "TextVectorization (lookup only)": lambda: vectorize(text_tokens),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}".encode() for i in range(5000)], dtype=object)
    ranks = rng.zipf(1.3, args.tokens) % len(words)
    tokens = words[ranks].reshape(-1, 100)
    ints = (ranks * 7 + 3).astype(np.int64).reshape(-1, 100)
    from featherflow import keras

    ours = cases(keras, tokens, ints, words, lambda a: a)
    peers = {}
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        import tf_keras

        peers = cases(tf_keras, tokens, ints, words, tf.constant)
    except ImportError:
        print("(tf_keras not installed: featherflow only)")
    print(f"{args.tokens:,} tokens, median of {args.repeats} calls (shared machine: times vary run to run)")
    print(f"{'layer call':34s} {'featherflow':>12s} {'tf.keras':>10s} {'ratio':>7s}")
    for name, fn in ours.items():
        mine = h.median_call(fn, args.repeats, warmup=1)
        theirs = h.median_call(peers[name], args.repeats, warmup=1) if name in peers else None
        peer = f"{theirs * 1000:8.1f} ms" if theirs else f"{'-':>10s}"
        ratio = f"{mine / theirs:6.2f}x" if theirs else f"{'-':>7s}"
        print(f"{name:34s} {mine * 1000:9.1f} ms {peer} {ratio}")


if __name__ == "__main__":
    main()
