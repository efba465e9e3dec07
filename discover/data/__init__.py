"""Trajectory data: the container, file I/O and synthetic simulation."""

from ._examples import EXAMPLES as EXAMPLES, example_data as example_data
from ._simulate import integrate as integrate, simulate as simulate
from ._trajectories import Trajectories as Trajectories

__all__ = ["EXAMPLES", "Trajectories", "example_data", "integrate", "simulate"]
