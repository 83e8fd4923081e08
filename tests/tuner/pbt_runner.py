"""A PBT run as a script, so a test can SIGKILL it part way and resume it (``overwrite=False``)."""

import sys

from pbt_tasks import build_classifier, make_data

from featherflow.tuner import PopulationBasedTraining


def make_pbt(directory, overwrite=False, **extra):
    options = dict(population_size=3, objective="val_loss", perturbation_interval=1, synchronous=True, seed=11,
                   quantile_fraction=0.34, directory=directory, project_name="pbt", overwrite=overwrite, verbose=0)
    options.update(extra)
    return PopulationBasedTraining(build_classifier, **options)


def run(directory, overwrite=False, epochs=4, **extra):
    pbt = make_pbt(directory, overwrite, **extra)
    x, y = make_data(96)
    xv, yv = make_data(48, seed=1)
    pbt.search(x, y, epochs=epochs, validation_data=(xv, yv), batch_size=32)
    return pbt


if __name__ == "__main__":
    run(sys.argv[1])
