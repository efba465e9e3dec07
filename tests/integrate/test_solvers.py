import numpy as np
import pytest
import torch

from discover.integrate import integrate_windows


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


@pytest.mark.parametrize("stride", [2, 5])
def test_strided_rk4_fills_samples_between_steps_to_fourth_order(stride):
    # dy/dt = -y + u, u = sin(t): exact y is known; every sample, not only step ends, must match
    t = torch.arange(21, dtype=torch.float64) * 0.05
    u = torch.sin(t)[None, :, None]
    y0 = torch.tensor([[1.0]], dtype=torch.float64)
    exact = (1.5 * np.exp(-t.numpy()) + 0.5 * (np.sin(t.numpy()) - np.cos(t.numpy())))
    out = integrate_windows(decay, y0, u, 0.05, "rk4", stride=stride)[0, :, 0].numpy()
    assert out.shape == (21,)
    h = stride * 0.05
    assert np.abs(out - exact).max() < 0.05 * h**4  # Hermite in between, RK4 at the ends: O(h^4)


def test_strided_rk4_error_falls_sixteen_fold_when_the_step_halves():
    t = torch.arange(41, dtype=torch.float64) * 0.1
    y0 = torch.tensor([[1.0]], dtype=torch.float64)
    exact = np.exp(-t.numpy())
    errors = [np.abs(integrate_windows(decay, y0, torch.zeros(1, 41, 1, dtype=torch.float64), 0.1, "rk4",
                                       stride=s)[0, :, 0].numpy() - exact).max() for s in (4, 2)]
    assert 10 < errors[0] / errors[1] < 20


def test_stride_must_divide_the_window():
    with pytest.raises(ValueError, match="stride 3 does not divide the 20 steps"):
        integrate_windows(decay, torch.zeros(1, 1), torch.zeros(1, 21, 1), 0.1, "rk4", stride=3)
