"""A search run as a script, so a test can SIGKILL it part way and run it again to resume."""

import sys

import tuner_models

from featherflow import tuner as ff_tuner


def make_tuner(kind, directory, overwrite=False, **extra):
    common = dict(objective="val_accuracy", seed=3, directory=directory, project_name=kind, overwrite=overwrite,
                  verbose=0, **extra)
    if kind == "random":
        return ff_tuner.RandomSearch(tuner_models.build_mlp, max_trials=4, **common)
    if kind == "grid":
        return ff_tuner.GridSearch(tuner_models.build_grid, **common)
    if kind == "bayesian":
        return ff_tuner.BayesianOptimization(tuner_models.build_mlp, max_trials=4, num_initial_points=2, **common)
    if kind == "hyperband":
        return ff_tuner.Hyperband(tuner_models.build_mlp, max_epochs=2, factor=2, **common)
    raise ValueError(kind)


def run(kind, directory, overwrite=False, **extra):
    tuner = make_tuner(kind, directory, overwrite, **extra)
    x, y, xv, yv = tuner_models.mnist_small()
    tuner.search(x, y, epochs=1, validation_data=(xv, yv), batch_size=64)
    return tuner


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2])
