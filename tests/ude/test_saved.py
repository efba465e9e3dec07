"""A fitted UDE kept on disk (UDE.save / UDE.load, a results folder's ude.pt) and pickled."""

import pickle

import numpy as np
import pytest
import torch

from discover import UDE, DataError, FitError, example_data
from tests.helpers import fhn_known

TINY = {"width": 8, "depth": 1, "window": 10, "batch_size": 16, "iterations": 4, "prefit_iterations": 5,
        "lbfgs_iterations": 3, "stride": 1, "progress": False}


@pytest.fixture(scope="module")
def fitted():
    """A tiny UDE on short FitzHugh-Nagumo trajectories (under a second), and held-out data."""
    train, heldout = example_data("fitzhugh_nagumo", n_train=2, n_heldout=1, duration=20.0, noise=0.01, seed=0)
    return UDE(fhn_known(), **TINY).fit(train), heldout


def test_training_records_where_each_phase_starts_in_the_loss_history(fitted):
    ude, _ = fitted
    assert ude.phases_ == (("pre-fit", 0), ("Adam", 5), ("L-BFGS", 9))
    assert len(ude.loss_history_) > 9  # L-BFGS: one loss per evaluation, at least one


def test_saved_and_loaded_ude_predicts_the_same(fitted, tmp_path):
    ude, heldout = fitted
    path = ude.save(tmp_path / "ude.pt")
    loaded = UDE.load(path)
    np.testing.assert_array_equal(loaded.simulate(heldout), ude.simulate(heldout))
    X = heldout.y[0, :50]
    np.testing.assert_array_equal(loaded.residual("v", X), ude.residual("v", X))
    assert loaded.window == ude.window and loaded.phases_ == ude.phases_ and loaded.loss_history_ == ude.loss_history_
    assert str(loaded.system) == str(ude.system)
    # the file is tensors and text: it loads where nothing may be unpickled
    assert set(torch.load(path, weights_only=True)) == {"format", "system", "settings", "learned", "model"}


def test_a_results_folder_is_loaded_by_its_ude_pt(fitted, tmp_path):
    ude, heldout = fitted
    ude.save(tmp_path / "ude.pt")
    np.testing.assert_array_equal(UDE.load(tmp_path).simulate(heldout), ude.simulate(heldout))


def test_fitted_ude_pickles(fitted):
    ude, heldout = fitted
    copy = pickle.loads(pickle.dumps(ude))
    np.testing.assert_array_equal(copy.simulate(heldout), ude.simulate(heldout))


def test_loading_what_is_not_a_saved_ude_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="holds no ude.pt: no network was trained"):
        UDE.load(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        UDE.load(tmp_path / "missing.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(DataError, match="not a UDE saved by this version of discover"):
        UDE.load(tmp_path / "other.pt")
    (tmp_path / "code.pt").write_bytes(pickle.dumps(print))  # a pickle that would call code: refused, not run
    with pytest.raises(DataError, match="cannot be read safely"):
        UDE.load(tmp_path / "code.pt")


def test_saving_an_unfitted_ude_says_to_fit_first(tmp_path):
    with pytest.raises(FitError, match="call fit"):
        UDE(fhn_known()).save(tmp_path / "ude.pt")
