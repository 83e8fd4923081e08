"""A DCGAN-style MNIST training loop with a ``@tf.function`` step (two models, two Adam optimizers, two
GradientTapes): seconds per training step, featherflow next to tf.keras (TF 2 + tf_keras, ``@tf.function``) and
PyTorch eager, and featherflow with the step run eagerly.

The step is TensorFlow's DCGAN tutorial loop (keras.io's DCGAN architecture, narrowed to run in ~10-30 s per
framework on 2 cores):

- generator: noise(64) - Dense(7*7*64) - BatchNorm - LeakyReLU - Reshape(7, 7, 64) - Conv2DTranspose(32, 4,
  strides 2, same) - BatchNorm - LeakyReLU - Conv2DTranspose(1, 4, strides 2, same, tanh): a 28x28x1 image;
- discriminator: Conv2D(32, 4, strides 2, same) - LeakyReLU(0.2) - Conv2D(64, 4, strides 2, same) -
  LeakyReLU(0.2) - Flatten - Dropout(0.3) - Dense(1) (a logit);
- per step: ``tf.random.normal`` noise, one generator pass, the discriminator on the real and the generated
  batch, BinaryCrossentropy(from_logits=True) losses, one tape per model, ``Adam(1e-4)`` per model.

PyTorch eager runs the same computation (one forward, ``torch.autograd.grad`` of each loss for its model's
parameters, two ``Adam(1e-4, eps=1e-7)``), NCHW. The data are the bundled MNIST digits scaled to [-1, 1],
batch 64. Every framework runs ``--warmup`` steps (tracing included), then ``--steps`` timed steps; one fresh
interpreter per framework and round, rounds interleaved, medians (``_harness.py``).

Run: ``python benchmarks/dcgan_step.py [--rounds 3] [--steps 150] [--no-fast] [--only featherflow torch]``;
``--profile [--threads 1] [--top 40]``: featherflow's compiled step line by line instead (``profile_program.py``).
"""

from __future__ import annotations

import json
import os
import sys

import _harness as h

BATCH = 64
LATENT = 64
FRAMEWORKS = ("featherflow", "featherflow-eager", "tf.keras", "torch", "torch-1t")
TARGETS = {"tf.keras": 1.0, "torch": 1.0}  # issue 22: featherflow's tf.function step <= 1.0x of each


def load_images():
    """The MNIST sample as float32 (n, 28, 28, 1) in [-1, 1]."""
    import numpy as np

    path = os.path.join(h.ROOT, "featherflow", "keras", "datasets", "mnist_sample.npz")
    with np.load(path, allow_pickle=False) as f:
        x = f["x_train"].astype("float32")
    return (x / 127.5 - 1.0)[..., None]


def build_step(tf, keras):
    """The tutorial's models and ``@tf.function`` step, written once for featherflow (``import featherflow as
    tf``) and TensorFlow: ``(train_step, batches)``, ``train_step(batch)`` returning the two losses."""
    keras.utils.set_random_seed(0)
    layers = keras.layers
    generator = keras.Sequential([
        keras.Input(shape=(LATENT,)),
        layers.Dense(7 * 7 * 64, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(0.2),
        layers.Reshape((7, 7, 64)),
        layers.Conv2DTranspose(32, 4, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),
    ])
    discriminator = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Conv2D(64, 4, strides=2, padding="same"), layers.LeakyReLU(0.2),
        layers.Flatten(), layers.Dropout(0.3), layers.Dense(1),
    ])
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    g_opt, d_opt = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([BATCH, LATENT])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated, training=True)
            gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            disc_loss = (cross_entropy(tf.ones_like(real_output), real_output) +
                         cross_entropy(tf.zeros_like(fake_output), fake_output))
        gen_grads = gen_tape.gradient(gen_loss, generator.trainable_variables)
        disc_grads = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(gen_grads, generator.trainable_variables))
        d_opt.apply_gradients(zip(disc_grads, discriminator.trainable_variables))
        return gen_loss, disc_loss

    images = load_images()
    batches = [tf.constant(images[i:i + BATCH]) for i in range(0, len(images) - BATCH + 1, BATCH)]
    return train_step, batches


def _tf_style(tf, keras, options) -> dict:
    """The tutorial loop timed (``build_step``'s step over the MNIST batches)."""
    import numpy as np

    if options.get("eager"):
        tf.config.run_functions_eagerly(True)
    train_step, batches = build_step(tf, keras)

    def run(steps):
        losses = None
        for i in range(steps):
            losses = train_step(batches[i % len(batches)])
        return [float(v) for v in losses]  # waits for the last step

    run(options["warmup"])
    wall, cpu, losses = h.timed(run, options["steps"])
    if not all(np.isfinite(losses)):
        raise RuntimeError(f"non-finite losses {losses}")
    return {"step_s": wall / options["steps"], "step_cpu_s": cpu / options["steps"], "gen_loss": losses[0],
            "disc_loss": losses[1]}


def run_featherflow(options):
    import featherflow as tf

    return _tf_style(tf, tf.keras, options)


def run_featherflow_eager(options):
    import featherflow as tf

    return _tf_style(tf, tf.keras, dict(options, eager=True))


def run_tf_keras(options):
    tf, keras = h.import_tf_keras()
    return _tf_style(tf, keras, options)


def run_torch(options):
    import torch

    nn = torch.nn
    torch.manual_seed(0)

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense = nn.Linear(LATENT, 7 * 7 * 64, bias=False)
            self.bn1 = nn.BatchNorm1d(7 * 7 * 64, eps=1e-3, momentum=0.01)  # Keras's BatchNorm defaults
            self.up1 = nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
            self.up2 = nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1)

        def forward(self, z):
            act = nn.functional.leaky_relu
            x = act(self.bn1(self.dense(z)), 0.2).view(-1, 64, 7, 7)
            x = act(self.bn2(self.up1(x)), 0.2)
            return torch.tanh(self.up2(x))

    discriminator = nn.Sequential(
        nn.Conv2d(1, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, 1))
    generator = Generator()
    g_params, d_params = list(generator.parameters()), list(discriminator.parameters())
    g_opt = torch.optim.Adam(g_params, lr=1e-4, eps=1e-7)
    d_opt = torch.optim.Adam(d_params, lr=1e-4, eps=1e-7)
    bce = nn.BCEWithLogitsLoss()
    images = torch.from_numpy(load_images().transpose(0, 3, 1, 2).copy())
    batches = [images[i:i + BATCH] for i in range(0, len(images) - BATCH + 1, BATCH)]

    def train_step(real):
        noise = torch.randn(BATCH, LATENT)
        generated = generator(noise)
        real_output = discriminator(real)
        fake_output = discriminator(generated)
        gen_loss = bce(fake_output, torch.ones_like(fake_output))
        disc_loss = bce(real_output, torch.ones_like(real_output)) + bce(fake_output, torch.zeros_like(fake_output))
        gen_grads = torch.autograd.grad(gen_loss, g_params, retain_graph=True)
        disc_grads = torch.autograd.grad(disc_loss, d_params)
        for p, g in zip(g_params + d_params, gen_grads + disc_grads):
            p.grad = g
        g_opt.step()
        d_opt.step()
        return gen_loss, disc_loss

    def run(steps):
        losses = None
        for i in range(steps):
            losses = train_step(batches[i % len(batches)])
        return [float(v) for v in losses]

    run(options["warmup"])
    wall, cpu, losses = h.timed(run, options["steps"])
    return {"step_s": wall / options["steps"], "step_cpu_s": cpu / options["steps"], "gen_loss": losses[0],
            "disc_loss": losses[1]}


def profile(steps: int, top: int, threads: int) -> None:
    """Time each line of featherflow's compiled step (``profile_program.instrument``): ms per step, wall, this
    thread's CPU and the process's CPU, the biggest lines first."""
    import re
    import time

    import numpy as np
    from profile_program import instrument

    import featherflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    train_step, batches = build_step(tf, tf.keras)
    for i in range(10):
        train_step(batches[i % len(batches)])
    program = next(iter(train_step._traces.values())).program
    program.fuse()
    stats = instrument(program)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(steps):
        losses = train_step(batches[i % len(batches)])
    float(losses[0])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{len(program.steps)} program steps (fused: {program.fused}); {wall / steps * 1e3:.2f} ms/step wall, "
          f"{cpu / steps * 1e3:.2f} ms process CPU; lines: {sum(s[1] for s in stats) / steps * 1e3:.2f} ms wall")
    print(f"{'ms wall':>8} {'ms cpu':>7} {'ms proc':>7}  line")
    for i in np.argsort([-s[1] for s in stats])[:top]:
        body, w, c, _, pc = stats[i]
        line = re.sub(r"\s+", " ", body)[:150]
        print(f"{w / steps * 1e3:8.3f} {c / steps * 1e3:7.3f} {pc / steps * 1e3:7.3f}  {line}")


RUNNERS = {"featherflow": run_featherflow, "featherflow-eager": run_featherflow_eager, "tf.keras": run_tf_keras,
           "torch": run_torch}


def main(argv=None) -> None:
    def extra(parser):
        parser.add_argument("--steps", type=int, default=150, help="timed steps per run")
        parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (tracing included)")
        parser.add_argument("--quick", action="store_true", help="30 timed steps, 5 warm-up, 1 round")
        parser.add_argument("--profile", action="store_true",
                            help="featherflow only, in this process: the time of each line of the compiled step")
        parser.add_argument("--top", type=int, default=40, help="lines --profile prints")
        parser.add_argument("--threads", type=int, default=0, help="--profile's intra-op threads (0: default)")

    args = h.parse_args(__doc__.splitlines()[0], extra, argv)
    if args.profile:
        profile(args.steps, args.top, args.threads)
        return
    if args.child:
        h.child_main(RUNNERS, args.child, json.loads(args.options))
        return
    if args.quick:
        args.steps, args.warmup, args.rounds = 30, 5, 1
    frameworks = h.frameworks_of(args, FRAMEWORKS)
    print(f"DCGAN step: batch {BATCH}, latent {LATENT}, {args.steps} timed steps after {args.warmup} x "
          f"{args.rounds} round(s); {h.load_line()}")
    options = {"steps": args.steps, "warmup": args.warmup}
    res, missing = h.interleave(os.path.abspath(__file__), frameworks, args.rounds, options, args.python,
                                args.timeout)
    medians = {fw: h.median_of(res.get(fw, []), "step_s") for fw in frameworks}
    rows = []
    for fw in frameworks:
        if not res.get(fw):
            rows.append([fw, f"not measured: {missing.get(fw, '')[:90]}", "", "", ""])
            continue
        step, cpu = medians[fw], h.median_of(res[fw], "step_cpu_s")
        rows.append([fw, f"{step * 1e3:.1f}", f"{cpu * 1e3:.1f}", f"{h.median_of(res[fw], 'load'):.2f}",
                     f"{h.median_of(res[fw], 'gen_loss'):.3f} / {h.median_of(res[fw], 'disc_loss'):.3f}"])
    table = h.format_table(["framework", "ms/step", "cpu ms/step", "load avg", "losses (g / d) at the end"],
                           rows)
    ratios = h.ratios_table(medians, TARGETS)
    print(table)
    print(ratios)
    notes = (f"DCGAN-style MNIST step (two models, two Adam, two tapes), batch {BATCH}; {args.steps} timed steps "
             f"after {args.warmup} in each of {args.rounds} round(s). featherflow and tf.keras run the step under "
             f"`@tf.function`; featherflow-eager runs it eagerly (`tf.config.run_functions_eagerly(True)`); "
             f"PyTorch is eager. Targets (issue 22): featherflow <= 1.0x tf.keras and <= 1.0x PyTorch eager.")
    if not args.no_results:
        h.write_section("dcgan_step", "DCGAN step under tf.function", notes + "\n\n" + table + "\n\n" + ratios,
                        h.command_line(), h.machine_info(args.python))


if __name__ == "__main__":
    sys.exit(main())
