"""An inactivating (A-type) potassium current as a candidate term of a cell's membrane.

Dorsal raphe neurons, serotonergic and GABAergic, carry a transient outward potassium current
that opens on depolarisation and inactivates over tens of milliseconds; a plain GIF cannot
express it, and it is what lifted spike-time prediction in Harkin et al. (2023)'s aGIF. Its form
is the one physiologists write:

    I_A = g_A m_inf(V) h (V - E_K),  m_inf(V) = 1 / (1 + exp(-(V - V_act) / k_act)),
    dh/dt = (h_inf(V) - h) / tau_A,   h_inf(V) = 1 / (1 + exp((V - V_inact) / k_inact)).

Once V_act, V_inact and tau_A are fixed the current is linear in g_A, so a grid of them enters the
membrane's least squares as candidate columns (h computed along the recorded voltage) and at most
one joins, as any other term does, when it pays on held-out blocks. Activation is instantaneous
(its time constant, about 1 ms, is below what a noise-driven membrane fit resolves), the slopes and
E_K are fixed at typical values: the data choose where the gate sits and how slowly it recovers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

E_K = -90.0
"""mV: the potassium reversal potential the gate's current is driven by."""
ACTIVATION_HALF = (-60.0, -50.0, -40.0, -30.0)
"""mV: half-activation voltages tried."""
INACTIVATION_HALF = (-85.0, -75.0, -65.0, -55.0)
"""mV: half-inactivation voltages tried."""
INACTIVATION_TAUS = (10.0, 30.0, 100.0, 300.0)
"""ms: inactivation time constants tried."""


@dataclass(frozen=True)
class Gate:
    """An A-type current: conductance `g` (nS), half-activation `V_act` and slope `k_act` (mV),
    half-inactivation `V_inact` and slope `k_inact` (mV), inactivation time constant `tau` (ms),
    reversal `E_K` (mV)."""

    g: float
    V_act: float
    V_inact: float
    tau: float
    k_act: float = 8.0
    k_inact: float = 6.0
    E_K: float = E_K

    @property
    def name(self) -> str:
        return f"A-type {self.V_act:g} {self.V_inact:g} {self.tau:g}"

    def m_inf(self, v):
        return 1.0 / (1.0 + np.exp(-(v - self.V_act) / self.k_act))

    def h_inf(self, v):
        return 1.0 / (1.0 + np.exp((v - self.V_inact) / self.k_inact))

    def current(self, v, h):
        """pA, outward when positive."""
        return self.g * self.m_inf(v) * h * (v - self.E_K)

    def h_along(self, v: np.ndarray, dt: float) -> np.ndarray:
        """h along a voltage trace, from its steady state at the first sample, by the exponential
        Euler step the simulators take: h[k] = a h[k-1] + (1 - a) h_inf(V[k-1])."""
        target = self.h_inf(np.asarray(v, dtype=float))
        a = math.exp(-dt / self.tau)
        h = np.empty_like(target)
        h[0] = target[0]
        if h.size > 1:
            h[1:], _ = lfilter([1.0 - a], [1.0, -a], target[:-1], zi=[a * target[0]])
        return h


GATE_GRID = tuple(Gate(1.0, act, inact, tau) for act, inact, tau in
                  itertools.product(ACTIVATION_HALF, INACTIVATION_HALF, INACTIVATION_TAUS))
"""The candidate gates (unit conductance) the membrane fit chooses from."""


def unit_columns(gates: Sequence[Gate], v: np.ndarray, dt: float) -> np.ndarray:
    """(samples, gates): each gate's contribution to dV/dt along a recorded voltage per unit of its
    conductance and of 1/C (the regression's coefficient carries g/C), -m_inf(V) h (V - E_K). The
    grid shares its curves (4 activations, 16 inactivation traces for 64 gates), so each is
    computed once per sweep."""
    m_of: dict[tuple[float, float], np.ndarray] = {}
    h_of: dict[tuple[float, float, float], np.ndarray] = {}
    out = np.empty((np.size(v), len(gates)))
    for j, gate in enumerate(gates):
        m = m_of.setdefault((gate.V_act, gate.k_act), gate.m_inf(v))
        h = h_of.get((gate.V_inact, gate.k_inact, gate.tau))
        if h is None:
            h = h_of[(gate.V_inact, gate.k_inact, gate.tau)] = gate.h_along(v, dt)
        out[:, j] = -(m * h * (v - gate.E_K))
    return out


def forced_with_gate(gate: Gate, C: float, gL: float, drive: np.ndarray, held: np.ndarray, v0: float,
                     reset: float, dt: float) -> np.ndarray:
    """V by forward Euler, C dV/dt = drive - gL V - I_A(V, h), held at `reset` where `held`;
    `drive` is the current less the spike-triggered currents plus gL EL. One sample at a time: the
    gate makes the membrane nonlinear, so the stretches between spikes are no longer filters. The
    gate's curves are written out in scalar `math`: numpy's per-call cost on one number would
    triple this loop's time."""
    out = np.empty(drive.size)
    v, h = float(v0), float(gate.h_inf(v0))
    a = math.exp(-dt / gate.tau)
    g, va, ka, vi, ki, ek = gate.g, gate.V_act, gate.k_act, gate.V_inact, gate.k_inact, gate.E_K
    out[0] = v
    for k in range(1, drive.size):
        if held[k]:
            new = reset
        else:
            m = 1.0 / (1.0 + math.exp(-(v - va) / ka))
            new = v + dt / C * (drive[k - 1] - gL * v - g * m * h * (v - ek))
        h = a * h + (1.0 - a) / (1.0 + math.exp((v - vi) / ki))
        v = new
        out[k] = v
    return out
