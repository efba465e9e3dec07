"""Universal differential equations: known dynamics plus neural-network residuals, trained with torch."""

from ._gates import GateKinetics as GateKinetics
from ._hidden import hidden_states as hidden_states, resting_hidden as resting_hidden
from ._hybrid import HybridODE as HybridODE
from ._train import UDE as UDE

__all__ = ["UDE", "GateKinetics", "HybridODE", "hidden_states", "resting_hidden"]
