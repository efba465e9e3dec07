"""The equation-system hand-off type, its whitelist parser and its compilers."""

from ._compile import TorchRHS as TorchRHS, compile_numpy as compile_numpy
from ._parse import parse_equation as parse_equation, parse_expression as parse_expression
from ._system import EquationSystem as EquationSystem, Parameter as Parameter, SpikeRule as SpikeRule

__all__ = ["EquationSystem", "Parameter", "SpikeRule", "TorchRHS", "compile_numpy", "parse_equation", "parse_expression"]
