"""keras.io's Transformer text classifier trained with ``fit``: seconds per epoch and peak memory, featherflow
next to tf.keras, Keras 3 on JAX and PyTorch eager.

The model (keras.io "Text classification with Transformer"): token + position Embedding(20,000 / 200, 32),
one Transformer block (MultiHeadAttention(num_heads=2, key_dim=32), residual + LayerNormalization(1e-6),
feed-forward Dense(32, relu) - Dense(32), dropout 0.1), GlobalAveragePooling1D, Dropout(0.1), Dense(20, relu),
Dropout(0.1), Dense(2, softmax); sequences of 200 token ids, batch 32, Adam, sparse categorical
cross-entropy, accuracy. Data: seeded random ids and labels of IMDB's shapes. An epoch here is
``--samples`` sequences (default 3,200 = 100 steps; IMDB's 25,000 takes minutes per framework on 2 cores):
the per-step cost is what is compared.

PyTorch: the same network by hand with ``nn.MultiheadAttention(32, 2, batch_first=True)`` called with
``need_weights=False`` (its fused scaled-dot-product kernel). Its heads are 16 wide (PyTorch splits the
embedding over the heads) where Keras's are ``key_dim=32``: the attention matrices (batch x heads x 200 x
200), which dominate, have the same size; PyTorch's projections do half the multiply-adds.

One fresh interpreter per framework and round; rounds interleaved; medians (``_harness.py``). Peak memory
is the child's peak resident set size (``ru_maxrss``) after its timed epochs.

Run: ``python benchmarks/transformer_epoch.py [--rounds 3] [--samples 3200] [--only featherflow torch]``
"""

from __future__ import annotations

import json
import os
import sys

import _harness as h

SPEC = dict(batch=32, maxlen=200, vocab=20_000, embed=32, heads=2, ff=32, classes=2)
WARMUP_STEPS = 5


def load_data(samples: int):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.integers(1, SPEC["vocab"], size=(samples, SPEC["maxlen"])).astype("int32")
    y = rng.integers(0, SPEC["classes"], size=(samples,)).astype("int32")
    return x, y


def build_keras_model(keras):
    """keras.io's classifier, written once for every Keras (featherflow's included)."""
    import numpy as np

    layers = keras.layers
    spec = SPEC

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
            super().__init__(**kwargs)
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs, training=None):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output, training=training)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output, training=training)
            return self.layernorm2(out1 + ffn_output)

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)
            self.positions = np.arange(maxlen)

        def call(self, x):
            return self.token_emb(x) + self.pos_emb(self.positions)

    inputs = layers.Input(shape=(spec["maxlen"],), dtype="int32")
    x = TokenAndPositionEmbedding(spec["maxlen"], spec["vocab"], spec["embed"])(inputs)
    x = TransformerBlock(spec["embed"], spec["heads"], spec["ff"])(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(spec["classes"], activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def _keras(keras, set_seed, options):
    x, y = load_data(options["samples"])
    set_seed(0)
    model = build_keras_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    batch = SPEC["batch"]
    model.fit(x[:WARMUP_STEPS * batch], y[:WARMUP_STEPS * batch], batch_size=batch, epochs=1, verbose=0)
    result = h.timed_fit_epochs(model, x, y, batch, options.get("epochs", 1))
    result["peak_rss_mb"] = h.peak_rss_mb()
    return result


def run_torch(options):
    import torch

    x, y = load_data(options["samples"])
    torch.manual_seed(0)
    nn = torch.nn
    spec = SPEC

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.token = nn.Embedding(spec["vocab"], spec["embed"])
            self.position = nn.Embedding(spec["maxlen"], spec["embed"])
            self.attention = nn.MultiheadAttention(spec["embed"], spec["heads"], batch_first=True)
            self.norm1 = nn.LayerNorm(spec["embed"], eps=1e-6)
            self.norm2 = nn.LayerNorm(spec["embed"], eps=1e-6)
            self.ffn = nn.Sequential(nn.Linear(spec["embed"], spec["ff"]), nn.ReLU(), nn.Linear(spec["ff"], spec["embed"]))
            self.dropout1, self.dropout2, self.dropout3, self.dropout4 = (nn.Dropout(0.1) for _ in range(4))
            self.head = nn.Sequential(nn.Linear(spec["embed"], 20), nn.ReLU(), nn.Dropout(0.1),
                                      nn.Linear(20, spec["classes"]))
            self.register_buffer("positions", torch.arange(spec["maxlen"]))

        def forward(self, ids):
            x = self.token(ids) + self.position(self.positions)
            attended, _ = self.attention(x, x, x, need_weights=False)
            x = self.norm1(x + self.dropout1(attended))
            x = self.norm2(x + self.dropout2(self.ffn(x)))
            return self.head(self.dropout3(x.mean(dim=1)))

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x.astype("int64")), torch.from_numpy(y.astype("int64"))
    batch = spec["batch"]

    def epoch(limit=None):
        model.train()
        order = torch.randperm(len(xt))
        correct, total, seen = 0, 0.0, 0
        stop = len(xt) if limit is None else limit * batch
        for start in range(0, stop, batch):
            idx = order[start:start + batch]
            xb, yb = xt[idx], yt[idx]
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            total += float(loss) * len(yb)
            correct += int((logits.argmax(dim=1) == yb).sum())
            seen += len(yb)
        return total / seen, correct / seen

    epoch(WARMUP_STEPS)
    walls, cpus = [], []
    for _ in range(options.get("epochs", 1)):
        wall, cpu, _ = h.timed(epoch)
        walls.append(wall)
        cpus.append(cpu)
    return {"epoch_s": walls, "epoch_cpu_s": cpus, "peak_rss_mb": h.peak_rss_mb()}


RUNNERS = {**h.keras_runners(_keras), "torch": run_torch}


def main(argv=None) -> None:
    def extra(parser):
        parser.add_argument("--epochs", type=int, default=1)
        parser.add_argument("--samples", type=int, default=3200)

    args = h.parse_args(__doc__.splitlines()[0], extra, argv)
    if args.child:
        h.child_main(RUNNERS, args.child, json.loads(args.options))
        return
    frameworks = args.only or list(h.FRAMEWORKS)
    options = {"epochs": args.epochs, "samples": args.samples}
    title = (f"Transformer classifier (embedding 32, 2 heads x 32, ff 32, sequences of 200, vocabulary 20k), "
             f"batch 32, {args.samples:,} sequences")
    print(title)
    res, missing = h.interleave(os.path.abspath(__file__), frameworks, args.rounds, options, args.python,
                                args.timeout)
    ff = h.median_of(res.get("featherflow", []), "epoch_s")
    ff_mem = h.median_of(res.get("featherflow", []), "peak_rss_mb")
    steps = -(-args.samples // SPEC["batch"])
    rows = []
    for fw in frameworks:
        if not res.get(fw):
            rows.append([fw, f"not measured: {missing.get(fw, '')[:90]}", "", "", "", "", ""])
            continue
        epoch, cpu = h.median_of(res[fw], "epoch_s"), h.median_of(res[fw], "epoch_cpu_s")
        rss = h.median_of(res[fw], "peak_rss_mb")
        rows.append([fw, f"{epoch:.2f}", f"{cpu:.2f}", f"{epoch / steps * 1e3:.1f}", h.ratio(ff, epoch),
                     f"{rss:.0f}", h.ratio(ff_mem, rss)])
    table = h.format_table(["framework", "s/epoch", "cpu s/epoch", "ms/step", "ff/peer", "peak MiB", "ff/peer mem"],
                           rows)
    print(table)
    if not args.no_results:
        notes = (f"{title}; Adam, accuracy metric; {args.epochs} timed epoch(s) in each of {args.rounds} round(s). "
                 "Targets (issue 19): <= 1.0x PyTorch eager and <= 0.5x tf.keras per epoch; peak memory <= "
                 "tf.keras's.")
        h.write_section("transformer_epoch", "Transformer text classifier: epoch time and memory",
                        notes + "\n\n" + table, h.command_line(), h.machine_info(args.python))


if __name__ == "__main__":
    sys.exit(main())
