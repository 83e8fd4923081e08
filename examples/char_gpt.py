"""A character-level GPT (decoder-only Transformer) trained on the King James Genesis, then sampled.

The text ships in ``examples/data`` (public domain, see its README). Characters become ids with
``tf.strings.unicode_split`` and a ``StringLookup``; the model reads 64 characters and predicts each next
one: token + position embeddings, two Transformer blocks whose ``MultiHeadAttention`` uses
``use_causal_mask=True`` (position t sees only positions <= t), and a Dense layer of logits. After training
it writes a continuation of "And God said" one character at a time (temperature sampling). The loss curve is
saved to ``char_gpt_loss.png`` (needs matplotlib).

Run: ``python examples/char_gpt.py`` (``--fast`` or ``FEATHERFLOW_EXAMPLE_FAST=1``: a tiny run for tests).
"""

import os
import sys

import numpy as np

import featherflow as tf
from featherflow import keras
from featherflow.keras import layers

FAST = "--fast" in sys.argv or os.environ.get("FEATHERFLOW_EXAMPLE_FAST") == "1"
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "genesis_kjv.txt")
BLOCK, EMBED, HEADS, LAYERS = 64, 64, 4, 2


def transformer_block(x):
    attended = layers.MultiHeadAttention(num_heads=HEADS, key_dim=EMBED // HEADS, dropout=0.1)(
        x, x, use_causal_mask=True)
    x = layers.LayerNormalization(epsilon=1e-5)(layers.Add()([x, attended]))
    hidden = layers.Dense(4 * EMBED, activation="relu")(x)
    x = layers.LayerNormalization(epsilon=1e-5)(layers.Add()([x, layers.Dense(EMBED)(hidden)]))
    return x


class PositionEmbedding(layers.Layer):
    """Adds a learned vector per position to the token embeddings."""

    def __init__(self, length, dim, **kwargs):
        super().__init__(**kwargs)
        self.length, self.dim = length, dim
        self.positions = layers.Embedding(length, dim)

    def call(self, x):
        return x + self.positions(tf.range(tf.shape(x)[1]))

    def get_config(self):
        return {**super().get_config(), "length": self.length, "dim": self.dim}


keras.utils.set_random_seed(0)
with open(DATA, encoding="utf-8") as f:
    text = f.read()
if FAST:
    text = text[:6000]
characters = tf.strings.unicode_split(text, "UTF-8")
lookup = layers.StringLookup(vocabulary=sorted(set(text)))
ids = lookup(characters).numpy()
vocab_size = lookup.vocabulary_size()
print(f"{len(text)} characters, {vocab_size} distinct (with the OOV id 0)")

# windows of BLOCK + 1 characters, every BLOCK // 2: inputs are the first BLOCK, targets the next ones
starts = np.arange(0, len(ids) - BLOCK - 1, BLOCK // 2)
windows = np.stack([ids[s:s + BLOCK + 1] for s in starts])
x, y = windows[:, :-1], windows[:, 1:]
print(f"{len(x)} training windows of {BLOCK} characters")

inputs = keras.Input(shape=(BLOCK,), dtype="int64")
h = PositionEmbedding(BLOCK, EMBED)(layers.Embedding(vocab_size, EMBED)(inputs))
for _ in range(LAYERS):
    h = transformer_block(h)
logits = layers.Dense(vocab_size)(h)
model = keras.Model(inputs, logits)
model.summary()
model.compile(optimizer=keras.optimizers.Adam(3e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
history = model.fit(x, y, batch_size=32, epochs=1 if FAST else 8, validation_split=0.1)
print(f"final training loss: {history.history['loss'][-1]:.3f} nats per character")


def generate(prompt, length, temperature=0.8, seed=0):
    rng = np.random.default_rng(seed)
    context = list(lookup(tf.strings.unicode_split(prompt, "UTF-8")).numpy())
    vocabulary = lookup.get_vocabulary()
    for _ in range(length):
        window = np.array(context[-BLOCK:])
        padded = np.pad(window, (0, BLOCK - len(window)))  # the causal mask keeps the padding after it unseen
        step_logits = model.predict(padded[None], verbose=0)[0, len(window) - 1] / temperature
        probabilities = np.exp(step_logits - step_logits.max())
        probabilities[0] = 0.0  # never the OOV id
        context.append(int(rng.choice(len(probabilities), p=probabilities / probabilities.sum())))
    return "".join(vocabulary[i] for i in context)


print("sample: " + repr(generate("And God said", 40 if FAST else 300)))
try:
    keras.utils.plot_history(history, filename="char_gpt_loss.png")
    print("saved char_gpt_loss.png")
except ImportError as error:
    print(f"no loss plot: {error}")
