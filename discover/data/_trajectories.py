"""Sampled trajectories: the data every stage trains on, validates against and writes out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import DataError
from .._npz import open_npz


@dataclass(frozen=True, eq=False)
class Trajectories:
    """Several trajectories sampled on one uniform time grid.

    **Arguments:**
    - `t`: times, shape `(n_times,)`, strictly increasing and uniformly spaced.
    - `y`: observed states, shape `(n_trajectories, n_times, n_states)`.
    - `u`: inputs (e.g. injected current), shape `(n_trajectories, n_times, n_inputs)`;
      `None` means no inputs.
    - `states`, `inputs`: names of the columns of `y` and `u`.
    """

    t: np.ndarray
    y: np.ndarray
    # None (no inputs) becomes an empty (n_trajectories, n_times, 0) array in __post_init__: always an array after
    u: np.ndarray = None  # type: ignore[assignment]
    states: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            t = np.asarray(self.t, dtype=float)
            y = np.asarray(self.y, dtype=float)
            u = None if self.u is None else np.asarray(self.u, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"`t`, `y` and `u` must be numeric arrays ({exc}).") from None
        if y.ndim == 2:  # one trajectory
            y = y[None]
        if y.ndim != 3:
            raise DataError(
                f"`y` must have shape (n_trajectories, n_times, n_states) or (n_times, n_states), got {y.shape}."
            )
        u = np.zeros((*y.shape[:2], 0)) if u is None else u
        if u.ndim == 2:
            u = u[None]
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "u", u)
        object.__setattr__(self, "states", tuple(self.states) or tuple(f"x{i}" for i in range(y.shape[-1])))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        self._check()

    def _check(self) -> None:
        t, y, u = self.t, self.y, self.u
        if t.ndim != 1 or t.size < 3:
            raise DataError(f"`t` must be 1-D with at least 3 samples, got shape {t.shape}.")
        if y.ndim != 3 or y.shape[1] != t.size:
            raise DataError(
                f"`y` must have shape (n_trajectories, n_times={t.size}, n_states), got {y.shape}; "
                "transpose it if time is not the middle axis."
            )
        if u.shape[:2] != y.shape[:2]:
            raise DataError(f"`u` must have shape {(*y.shape[:2], 'n_inputs')}, got {u.shape}.")
        if len(self.states) != y.shape[-1]:
            raise DataError(f"`states` names {list(self.states)} but `y` has {y.shape[-1]} state columns.")
        if len(self.inputs) != u.shape[-1]:
            raise DataError(f"`inputs` names {list(self.inputs)} but `u` has {u.shape[-1]} input columns.")
        for name, arr in (("t", t), ("y", y), ("u", u)):
            if not np.all(np.isfinite(arr)):
                bad = np.argwhere(~np.isfinite(arr))[0].tolist()
                raise DataError(f"`{name}` holds NaN or inf (first at index {bad}); remove or interpolate those "
                                "samples.")
        steps = np.diff(t)
        if np.any(steps <= 0):
            i = int(np.argmax(steps <= 0))
            raise DataError(f"`t` must be strictly increasing; t[{i}]={t[i]} is followed by t[{i + 1}]={t[i + 1]}.")
        if not np.allclose(steps, steps[0], rtol=1e-6, atol=0):
            raise DataError(
                f"`t` must be uniformly spaced (steps range {steps.min():g}..{steps.max():g}); resample the data first."
            )

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0])

    @property
    def n_trajectories(self) -> int:
        return self.y.shape[0]

    def select(self, indices: Sequence[int] | slice | np.ndarray) -> Trajectories:
        """The trajectories at `indices` (a list or slice)."""
        return Trajectories(self.t, self.y[indices], self.u[indices], self.states, self.inputs)

    def split_time(self, fraction: float) -> tuple[Trajectories, Trajectories]:
        """Every trajectory cut in two: the first `1 - fraction` of its samples, and the rest."""
        cut = int(round(self.t.size * (1 - fraction)))
        head = Trajectories(self.t[:cut], self.y[:, :cut], self.u[:, :cut], self.states, self.inputs)
        tail = Trajectories(self.t[cut:], self.y[:, cut:], self.u[:, cut:], self.states, self.inputs)
        return head, tail

    def save_npz(self, path: str | Path) -> None:
        np.savez(
            path, t=self.t, y=self.y, u=self.u,
            states=np.array(self.states, dtype=str), inputs=np.array(self.inputs, dtype=str),
        )

    @classmethod
    def load_npz(cls, path: str | Path) -> Trajectories:
        """Read a file written by `save_npz` (`t`, `y`, optional `u`, `states`, `inputs`); never unpickles."""
        with open_npz(path) as f:
            keys = set(f.files)
            if not {"t", "y"} <= keys:
                raise DataError(f"{str(path)!r} has arrays {sorted(keys)}; it needs at least `t` and `y`.")
            given = {"u": f["u"]} if "u" in keys else {}  # no `u`: no inputs
            return cls(
                t=f["t"], y=f["y"], **given,
                states=tuple(str(s) for s in f["states"]) if "states" in keys else (),
                inputs=tuple(str(s) for s in f["inputs"]) if "inputs" in keys else (),
            )
