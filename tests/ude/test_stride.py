"""Coarse RK4 steps over oversampled data: chosen from the noise, never biasing the final fit."""

import numpy as np
import pytest

from discover import UDE, FitError, example_data
from discover.integrate._windows import STRIDE_TOLERANCE, noise_level
from tests.helpers import fhn_known

SMALL = {"iterations": 60, "prefit_iterations": 100, "lbfgs_iterations": 10, "batch_size": 64, "progress": False}


def _fhn(noise):
    return example_data("fitzhugh_nagumo", n_train=2, n_heldout=1, duration=30.0, noise=noise, seed=0)[0]


@pytest.mark.parametrize("noise", [0.01, 0.05])
def test_noise_level_reads_the_noise_off_the_data(noise):
    clean, noisy = _fhn(0.0), _fhn(noise)
    truth = noise * clean.y.reshape(-1, 2).std(0)  # how example_data adds it
    np.testing.assert_allclose(noise_level(noisy), truth, rtol=0.25)
    assert np.all(noise_level(clean) < 0.05 * truth)


def test_auto_stride_steps_over_samples_on_noisy_data_only():
    noisy = UDE(fhn_known(), **SMALL).fit(_fhn(0.01))
    assert noisy.stride_ > 1 and noisy.stride_error_ <= STRIDE_TOLERANCE
    assert UDE(fhn_known(), **SMALL).fit(_fhn(0.0)).stride_ == 1


def test_a_coarse_stride_ends_where_one_step_per_sample_ends():
    data = _fhn(0.01)
    coarse = UDE(fhn_known(), **SMALL).fit(data)
    fine = UDE(fhn_known(), stride=1, **SMALL).fit(data)
    assert coarse.stride_ > 1 and fine.stride_ == 1
    # the polish (one step per sample for both) ends at the same loss, and the residuals agree
    assert coarse.loss_history_[-1] == pytest.approx(fine.loss_history_[-1], rel=0.1)
    grid = np.column_stack([np.linspace(-2, 2, 50), np.zeros(50)])
    spread = np.ptp(fine.residual("v", grid))
    assert np.abs(coarse.residual("v", grid) - fine.residual("v", grid)).max() < 0.05 * spread


@pytest.mark.parametrize("settings, message", [
    ({"stride": 3}, r"`stride`=3 must divide `window`=20"),
    ({"stride": 0}, r"`stride` must be 'auto' or an integer >= 1.*got 0"),
    ({"stride": "fast"}, r"`stride` must be 'auto' or an integer >= 1.*got 'fast'"),
    ({"stride": 2, "substeps": 2}, r"`stride`=2 steps over samples, which needs solver 'rk4' and substeps 1"),
    ({"stride": 2, "solver": "dopri5"}, r"needs solver 'rk4'"),
])
def test_bad_stride_is_refused_before_training(settings, message):
    with pytest.raises(FitError, match=message):
        UDE(fhn_known(), **{**SMALL, **settings}).fit(_fhn(0.01))


def test_a_noise_free_state_among_noisy_ones_does_not_pin_the_stride():
    # e.g. an adaptation trace computed from spike times: its tolerance would be zero
    from discover import Trajectories

    noisy, clean = _fhn(0.01), _fhn(0.0)
    mixed = Trajectories(noisy.t, np.stack([noisy.y[..., 0], clean.y[..., 1]], -1), noisy.u,
                         states=noisy.states, inputs=noisy.inputs)
    assert noise_level(mixed)[1] < 1e-6 * mixed.y[..., 1].std()
    assert UDE(fhn_known(), **SMALL).fit(mixed).stride_ > 1


def test_an_explicit_stride_is_kept_on_noise_free_data():
    ude = UDE(fhn_known(), stride=2, **SMALL).fit(_fhn(0.0))
    assert ude.stride_ == 2 and np.isnan(ude.stride_error_)
