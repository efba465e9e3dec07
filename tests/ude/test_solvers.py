import numpy as np
import pytest
import torch

from discover.ude import integrate_windows


def decay(y, u):
    return -y + u


@pytest.mark.parametrize("solver", ["rk4", "torchdiffeq-rk4", "dopri5", "adjoint-dopri5"])
def test_window_integration_matches_exact_solution(solver):
    # dy/dt = -y + u with u = 1 constant: y = 1 + (y0 - 1) exp(-t)
    y0 = torch.tensor([[0.0], [2.0]], dtype=torch.float64)
    u = torch.ones(2, 11, 1, dtype=torch.float64)
    out = integrate_windows(decay, y0, u, 0.1, solver)
    t = np.arange(11) * 0.1
    exact = 1 + (y0.numpy() - 1) * np.exp(-t)[None, :]
    np.testing.assert_allclose(out[..., 0].numpy(), exact, atol=1e-5)


def test_rk4_is_fourth_order():
    y0 = torch.tensor([[1.0]], dtype=torch.float64)
    errors = []
    for substeps in (1, 2):
        u = torch.zeros(1, 11, 1, dtype=torch.float64)
        out = integrate_windows(decay, y0, u, 0.5, "rk4", substeps)
        errors.append(abs(out[0, -1, 0].item() - np.exp(-5.0)))
    assert 12 < errors[0] / errors[1] < 20  # halving h divides the error by ~16


def test_inputs_are_interpolated_between_samples():
    # dy/dt = u(t) with u = t sampled on the grid: y = t^2 / 2 exactly under linear interpolation.
    t = torch.arange(6, dtype=torch.float64) * 0.2
    out = integrate_windows(lambda y, u: u, torch.zeros(1, 1, dtype=torch.float64), t[None, :, None], 0.2)
    np.testing.assert_allclose(out[0, :, 0].numpy(), (t**2 / 2).numpy(), atol=1e-12)
