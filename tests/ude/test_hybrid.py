"""The folded right-hand side that training integrates is the model's own, values and gradients."""

import numpy as np
import pytest
import torch

from discover import EquationSystem
from discover.ude._hybrid import HybridODE, MLPResidual


@pytest.mark.parametrize("features", [["x", "y"], ["y"], ["x", "I"], ["I", "x"], ["x", "y", "I"]])
@pytest.mark.parametrize("depth", [0, 2])
def test_fused_rhs_equals_forward_with_the_same_gradients(features, depth):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    known = EquationSystem.from_text(["dx/dt = -x + I", "dy/dt = x - y"], inputs=["I"])
    system = known.with_residual("x", features).with_residual("y", ["x", "y"])
    nets = [MLPResidual(rng.normal(size=len(features)), rng.uniform(0.5, 2, len(features)), 2.0, 8, depth),
            MLPResidual(rng.normal(size=2), rng.uniform(0.5, 2, 2), 3.0, 8, 1)]
    for p in (p for net in nets for p in net.parameters()):
        torch.nn.init.normal_(p)  # not the near-zero last layer: every weight must matter
    model = HybridODE(system, nets).double()
    y, u = torch.randn(6, 2, dtype=torch.float64), torch.randn(6, 1, dtype=torch.float64)
    plain, fused = model(y, u), model.fused()(y, u)
    torch.testing.assert_close(fused, plain)
    for a, b in zip(torch.autograd.grad(plain.sum(), list(model.parameters())),
                    torch.autograd.grad(fused.sum(), list(model.parameters())), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("solver", ["dopri5", "adjoint-dopri5"])
def test_every_solver_gives_the_window_loss_the_same_gradient(solver):
    # the adjoint finds parameters through the module it integrates: a folded closure would have none
    from discover import example_data
    from discover.integrate import Windows
    from tests.helpers import fhn_known

    torch.manual_seed(0)
    data = example_data("fitzhugh_nagumo", n_train=1, n_heldout=1, duration=10.0, seed=0)[0]
    system = fhn_known()
    nets = [MLPResidual(np.zeros(2), np.ones(2), 1.0, 8, 1)]
    for p in nets[0].parameters():
        torch.nn.init.normal_(p, std=0.3)
    model = HybridODE(system, nets).double()
    windows = Windows(data, 5, torch.float64)
    idx = np.arange(8)
    reference = torch.autograd.grad(windows.loss(model, idx, "rk4"), list(model.parameters()))
    grads = torch.autograd.grad(windows.loss(model, idx, solver), list(model.parameters()))
    for a, b in zip(reference, grads, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-3, atol=1e-7)


@pytest.mark.parametrize("depth", [0, 2])
def test_numpy_rhs_equals_forward_spike_cap_and_moving_threshold_included(depth):
    # re-simulating a recording steps the UDE through its numpy copy: the same numbers as the torch
    # model, the threshold's cap (V held at a moving threshold, dV/dt 0 there) included
    import dataclasses

    from discover.equations import SpikeRule

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    known = EquationSystem.from_text(["dV/dt = (I - 2*(V + 60))/25", "dw/dt = -w/100"], inputs=["I"])
    known = dataclasses.replace(known, spike=SpikeRule("V", -20.0, -55.0, add=(("w", 1.0),), moving=(("w", 2.0),)))
    net = MLPResidual(np.array([-50.0, 1.0, 0.0]), np.array([10.0, 2.0, 50.0]), 3.0, 8, depth)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.5)
    model = HybridODE(known.with_residual("V", ["V", "w", "I"]), [net])
    y = np.column_stack([rng.uniform(-80, 10, 40), rng.uniform(0, 40, 40)])
    u = rng.normal(size=(40, 1)) * 100
    with torch.no_grad():
        want = model.double()(torch.from_numpy(y), torch.from_numpy(u)).numpy()
    got = model.numpy()(y, u)
    assert np.any(got[:, 0] == 0.0)  # some rows sit at or above their threshold
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
