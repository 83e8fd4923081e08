"""The ``featherflow`` command line: ``demo``, ``info``, ``summary`` and ``predict``.

Errors caused by the user's input (a missing or bad file) are printed as one line,
``featherflow: error: ...``, with exit status 2 - never a traceback.

>>> main(["--version"])  # doctest: +ELLIPSIS
featherflow ...
0
"""

from __future__ import annotations

import argparse
import os
import sys

from featherflow._version import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="featherflow",
        description="featherflow: deep learning on NumPy with the TensorFlow/Keras API.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="train the lecture's MNIST model and write demo-output/",
                          description="Train the course's MNIST model (Flatten-Dense128-Dropout-Dense10) on the "
                                      "bundled 5,000-digit MNIST sample, show digit 42 with its predicted "
                                      "probabilities, and write history.png, predictions.png and model.keras.")
    demo.add_argument("--full", action="store_true",
                      help="download and use the full 60,000/10,000 MNIST set instead of the bundled sample")
    demo.add_argument("--epochs", type=int, default=5, help="training epochs (default 5)")
    demo.add_argument("--output", default="demo-output", help="folder for the files (default demo-output)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")

    sub.add_parser("info", help="version, backend, BLAS and threads, compiled kernels, installed extras",
                   description="Print featherflow's version, the array backend, NumPy's BLAS and thread "
                               "settings, whether the compiled kernels (extra fast) are active and which "
                               "optional extras are installed.")

    summary = sub.add_parser("summary", help="print the summary() of a saved model",
                             description="Load a .keras model file (safely: no code is executed) and print "
                                         "its summary().")
    summary.add_argument("model", help="path to a .keras file")

    predict = sub.add_parser("predict", help="run a saved model on inputs from a .npy file",
                             description="Load a .keras model and a .npy array of inputs, print the "
                                         "predictions (and the predicted class for classifiers).",
                             epilog="The input is a batch shaped like the model's input (batch axis first) and "
                                    "scaled like its training data, saved with np.save. For the demo's model, "
                                    "np.save('digits.npy', x_test[:10] / 255.0) makes one from the MNIST test "
                                    "digits; featherflow demo writes such a file, demo-output/digits.npy.")
    predict.add_argument("model", help="path to a .keras file")
    predict.add_argument("input", help="path to a .npy file holding a batch of inputs, e.g. np.save('x.npy', "
                                       "x_test[:10] / 255.0)")
    predict.add_argument("--batch-size", type=int, default=32, help="prediction batch size (default 32)")
    predict.add_argument("--output", help="save the predictions to this .npy file instead of printing them")
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.version:
        print(f"featherflow {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "demo":
            from featherflow.cli.demo import run_demo

            run_demo(full=args.full, epochs=args.epochs, output=args.output, seed=args.seed)
        elif args.command == "info":
            from featherflow.cli.info import print_info

            print_info()
        elif args.command == "summary":
            from featherflow.cli.model_commands import summary

            summary(args.model)
        elif args.command == "predict":
            from featherflow.cli.model_commands import predict

            predict(args.model, args.input, batch_size=args.batch_size, output=args.output)
    except BrokenPipeError:
        # The reader went away (e.g. `featherflow demo | head`): stop quietly, like other Unix tools.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - avoids a second error at interpreter exit
        return 0
    except (OSError, ValueError, TypeError, ImportError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"featherflow: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("featherflow: interrupted", file=sys.stderr)
        return 130
    return 0
