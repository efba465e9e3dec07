"""Trajectory data: the container, file I/O and synthetic simulation."""

from ._examples import example_data as example_data
from ._inputs import Chirp as Chirp, Noise as Noise, Ramp as Ramp, Step as Step
from ._simulate import integrate as integrate, simulate as simulate
from ._trajectories import Trajectories as Trajectories

__all__ = ["Chirp", "Noise", "Ramp", "Step", "Trajectories", "example_data", "integrate", "simulate"]
