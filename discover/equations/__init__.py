"""The equation-system hand-off type, its whitelist parser and its compilers."""

from ._compile import TorchRHS as TorchRHS, compile_numpy as compile_numpy, evaluate_expression as evaluate_expression
from ._functions import exprel as exprel
from ._parse import parse_equation as parse_equation, parse_expression as parse_expression
from ._spike import SpikeRule as SpikeRule
from ._stacked import compile_stacked as compile_stacked
from ._system import EquationSystem as EquationSystem, Parameter as Parameter
from ._units import parse_unit as parse_unit

__all__ = [
    "EquationSystem", "Parameter", "SpikeRule", "TorchRHS", "compile_numpy", "compile_stacked", "evaluate_expression",
    "exprel", "parse_equation", "parse_expression", "parse_unit",
]
