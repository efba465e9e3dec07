"""`device = "auto" | "cpu" | "cuda"` for training, refits and the latent ODE. These run without a GPU:
"cuda" must then be a clear error naming the fix, "auto" the CPU."""

import numpy as np
import pytest
import sympy as sp
import torch

from discover import UDE, FitError, simulate
from discover.choose import refit_coefficients
from discover.integrate import resolve_device
from discover.latent import LatentODE, Population
from discover.models import fitzhugh_nagumo
from tests.helpers import fhn_known

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks what happens where torch sees no GPU")


@pytest.fixture(scope="module")
def data():
    return simulate(fitzhugh_nagumo(), [[1.0, 0.5], [-1.0, 1.0]], np.arange(0, 6.0001, 0.1), {"I": 0.5})


def test_device_names_are_checked():
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(FitError, match=r"UDE `device` must be one of \['auto', 'cpu', 'cuda'\], got 'gpu'"):
        resolve_device("gpu", "UDE")
    with pytest.raises(FitError, match="`device` must be one of"):
        UDE(fhn_known(), device="gpu").check_settings()


@no_gpu
def test_cuda_without_a_gpu_names_the_fix_and_auto_runs_on_the_cpu(data):
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(FitError, match=r"'cuda' but torch sees no GPU.*device='cpu'.*'auto'.*CUDA build"):
        resolve_device("cuda", "UDE")
    with pytest.raises(FitError, match="UDE `device` is 'cuda' but torch sees no GPU"):
        UDE(fhn_known(), device="cuda", iterations=1, progress=False).fit(data)
    ude = UDE(fhn_known(), device="auto", iterations=2, prefit_iterations=2, lbfgs_iterations=0, window=10,
              progress=False).fit(data)
    assert all(p.device.type == "cpu" for p in ude.model_.parameters()) and np.isfinite(ude.loss_history_).all()
    v = sp.Symbol("v", real=True)
    biased = fhn_known().replace_residuals({"v": 0.95 * v - 0.31 * v**3}, how="test")
    with pytest.raises(FitError, match="refit `device` is 'cuda' but torch sees no GPU"):
        refit_coefficients(biased, data, window=10, device="cuda")
    refit, before, after = refit_coefficients(biased, data, window=10, iterations=5, device="auto")
    assert after < before


@no_gpu
def test_latent_ode_on_cuda_without_a_gpu_is_refused():
    counts = Population(np.ones((4, 10, 3)), 0.1)
    with pytest.raises(FitError, match="LatentODE `device` is 'cuda' but torch sees no GPU"):
        LatentODE(1, iterations=1, progress=False, device="cuda").fit(counts)
    model = LatentODE(1, iterations=1, progress=False, device="auto").fit(counts)
    assert next(model.model_.parameters()).device.type == "cpu"
