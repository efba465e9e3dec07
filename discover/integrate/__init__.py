"""Integration of trajectory windows, shared by training, distillation, validation and the latent path.

It sits low in the package (it needs only `data` and torch), so every stage that re-simulates
windows uses the same integrator without reaching into another stage's private modules.
"""

from ._device import DEVICES as DEVICES, resolve_device as resolve_device
from ._settings import one_blas_thread as one_blas_thread, torch_settings as torch_settings
from ._solvers import (
    RHS as RHS,
    SOLVERS as SOLVERS,
    integrate_windows as integrate_windows,
    rk4_step as rk4_step,
    rk4_substep as rk4_substep,
)
from ._windows import (
    STRIDES as STRIDES,
    Windows as Windows,
    choose_stride as choose_stride,
    noise_level as noise_level,
    state_scale as state_scale,
)

__all__ = [
    "DEVICES", "RHS", "SOLVERS", "STRIDES", "Windows", "choose_stride", "integrate_windows", "noise_level",
    "one_blas_thread", "resolve_device", "rk4_step", "rk4_substep", "state_scale", "torch_settings",
]
