"""Training survives divergence, and an interrupted run resumes to the same result."""

import numpy as np
import pytest
import torch

from discover import UDE, FitError, example_data
from discover.integrate import _windows
from discover.ude import _checkpoint
from tests.helpers import assert_same_fit, fhn_known, resume_after_interrupt

SMALL = {"iterations": 60, "prefit_iterations": 50, "lbfgs_iterations": 0, "batch_size": 64, "progress": False}


@pytest.fixture(scope="module")
def data():
    return example_data("fitzhugh_nagumo", n_train=2, n_heldout=1, duration=30.0, noise=0.01, seed=0)[0]


def _nan_on(calls, monkeypatch):
    """Make the window loss NaN on the given call numbers (1-based)."""
    real, count = _windows.Windows.loss, {"n": 0}

    def loss(self, *args, **kwargs):
        count["n"] += 1
        value = real(self, *args, **kwargs)
        return value * float("nan") if count["n"] in calls else value

    monkeypatch.setattr(_windows.Windows, "loss", loss)


def test_divergence_rolls_back_and_halves_the_learning_rate(data, monkeypatch):
    _nan_on({30}, monkeypatch)
    ude = UDE(fhn_known(), **SMALL).fit(data)
    assert len(ude.recoveries_) == 1
    step, lr = ude.recoveries_[0]
    assert step == 29 and lr == pytest.approx(ude.learning_rate / 2 * _cosine_factor(ude, 25), rel=0.2)
    assert np.all(np.isfinite(ude.loss_history_))


def _cosine_factor(ude, it):
    eta_min = ude.learning_rate / 20
    return (eta_min + (ude.learning_rate - eta_min) * (1 + np.cos(np.pi * it / ude.iterations)) / 2) / ude.learning_rate


def test_persistent_divergence_stops_with_a_clear_error(data, monkeypatch):
    _nan_on(set(range(20, 1000)), monkeypatch)
    with pytest.raises(FitError, match=r"at iteration \d+: the hybrid model diverged 4 times"):
        UDE(fhn_known(), **SMALL).fit(data)


def test_interrupted_training_resumes_to_the_same_result(data, tmp_path, monkeypatch):
    whole = UDE(fhn_known(), **SMALL).fit(data)
    checkpoint = tmp_path / "ude.pt"
    resumed = resume_after_interrupt(
        lambda resume: UDE(fhn_known(), checkpoint=str(checkpoint), checkpoint_every=20, resume=resume, **SMALL),
        data, 45, monkeypatch)
    assert_same_fit(whole, resumed, resumed_at=40)


class _Payload:
    def __reduce__(self):  # what a malicious pickle would do on load
        return (print, ("pwned",))


def test_checkpoints_load_only_tensors_and_plain_data(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"iteration": 1, "x": _Payload()}, path)
    with pytest.raises(FitError, match="cannot be read safely"):
        _checkpoint.load_checkpoint(path)
    assert "pwned" not in capsys.readouterr().out
    assert _checkpoint.load_checkpoint(tmp_path / "missing.pt") is None
