"""Universal differential equations: known dynamics plus neural-network residuals, trained with torch."""

from ._hybrid import HybridODE as HybridODE, MLPResidual as MLPResidual
from ._solvers import SOLVERS as SOLVERS, integrate_windows as integrate_windows
from ._train import UDE as UDE
from ._windows import Windows as Windows

__all__ = ["SOLVERS", "UDE", "HybridODE", "MLPResidual", "Windows", "integrate_windows"]
