"""Several closed systems stacked as one right-hand side: each row gets its own model's derivatives."""

import numpy as np
import pytest

from discover import EquationError, EquationSystem
from discover.equations import compile_numpy, compile_stacked

KNOWN = "(I - 2.5*(V + 60))/26"


def _models():
    return [EquationSystem.from_text([f"dV/dt = {rhs}", "dw/dt = -w/100"], inputs=["I"]) for rhs in (
        KNOWN,  # the known part alone
        f"{KNOWN} - 0.0001*V**2",  # a library candidate
        f"{KNOWN} + 0.2*exp((V + 45)/2)",  # an exponential: overflows on rows of the other models, unused there
        f"{KNOWN} + 3*sin(w) - 0.5*V*w + 7",  # other functions, a constant
    )]


def test_each_row_block_follows_its_own_model():
    models, n = _models(), 3
    rng = np.random.default_rng(0)
    y = np.column_stack([rng.uniform(-80, 20, 4 * n), rng.uniform(0, 5, 4 * n)])
    y[1, 0] = 2000.0  # the exponential overflows here, in a row of the known part, which must stay finite
    u = rng.normal(size=(4 * n, 1)) * 100
    with np.errstate(over="ignore", invalid="ignore"):
        got = compile_stacked(models, n)(y, u)
    want = np.concatenate([compile_numpy(m)(y[k * n:(k + 1) * n], u[k * n:(k + 1) * n]) for k, m in enumerate(models)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.all(np.isfinite(got[:n]))


def test_models_of_other_variables_are_refused():
    other = EquationSystem.from_text(["dV/dt = -V + I"], inputs=["I"])
    with pytest.raises(EquationError, match="same variables"):
        compile_stacked([_models()[0], other], 2)
