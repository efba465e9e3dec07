"""Special functions neuron models need, with numerically safe implementations."""

from __future__ import annotations

import numpy as np
import sympy as sp
import torch


class exprel(sp.Function):  # noqa: N801 - the name users write in equations (as in Brian2)
    """exprel(x) = (exp(x) - 1) / x, equal to 1 at x = 0.

    Hodgkin–Huxley-type rates x / (1 - exp(-x)) are 1 / exprel(-x): written this way they stay
    finite at the 0/0 point (V = -40 mV and -55 mV in the squid axon model).
    """

    @classmethod
    def eval(cls, x):
        if x.is_zero:
            return sp.Integer(1)
        return None

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return sp.Piecewise((1, sp.Eq(x, 0)), ((sp.exp(x) - 1) / x, True))

    def fdiff(self, argindex=1):
        x = self.args[0]
        return (sp.exp(x) * x - sp.exp(x) + 1) / x**2

    def _latex(self, printer):
        return rf"\operatorname{{exprel}}\left({printer._print(self.args[0])}\right)"


def exprel_numpy(x):
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 + x / 2 + x * x / 6, np.expm1(safe) / safe)


def exprel_torch(x: torch.Tensor) -> torch.Tensor:
    small = x.abs() < 1e-4
    safe = torch.where(small, torch.ones_like(x), x)
    # the series branch keeps gradients finite where the quotient is 0/0
    return torch.where(small, 1.0 + x / 2 + x * x / 6, torch.expm1(safe) / safe)


# the numeric evaluators travel with the function users write, so code outside `equations` that
# evaluates a form with exprel (the gate forms of `distill`) uses these, not a copy
exprel.numpy = staticmethod(exprel_numpy)
exprel.torch = staticmethod(exprel_torch)
