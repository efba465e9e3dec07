"""Cut spiking recordings into the spike-free pieces a smooth ODE can be trained on."""

from __future__ import annotations

import numpy as np

from .._errors import DataError
from ..data import Trajectories
from ..equations import SpikeRule
from ..validate import spike_times


def spike_mask(t: np.ndarray, v: np.ndarray, rule: SpikeRule) -> np.ndarray:
    """True where a sample lies inside a spike as the hybrid model sees it: from the threshold
    crossing until `rule.refractory` later, and wherever the voltage is above threshold."""
    bad = v >= rule.threshold
    for s in spike_times(t, v, rule.threshold):
        bad |= (t >= s - (t[1] - t[0])) & (t <= s + rule.refractory)
    return bad


def spike_free_chunks(data: Trajectories, rule: SpikeRule, length: int, *, balance: bool = True) -> Trajectories:
    """Every stretch between spikes cut into trajectories of `length` samples, laid from each
    stretch's end backwards, so the last piece before a spike ends at its threshold crossing and
    the spike-initiation upstroke (where an exponential term shows) is always in the data.

    With `balance`, the pieces far from any spike (rest, hyperpolarising steps), which outnumber
    the rest many times in a step protocol, are thinned to as many as there are pieces that end
    at a spike (the two last before each), evenly spaced in time: a loss averaged over every
    piece would otherwise barely see spike initiation. Stretches shorter than `length` are
    dropped. Returns chunks in time order.
    """
    i = data.states.index(rule.state)
    near: list[tuple[int, int]] = []  # (sweep, end) of each piece
    far: list[tuple[int, int]] = []
    for k, y in enumerate(data.y[..., i]):
        good = ~spike_mask(data.t, y, rule)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], good.astype(int), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            ends = sorted(range(stop, start + length - 1, -length))
            before_spike = stop < data.t.size
            for j, end in enumerate(ends):
                (near if before_spike and j >= len(ends) - 2 else far).append((k, end))
    if balance and near and len(far) > len(near):
        far = [far[j] for j in np.linspace(0, len(far) - 1, len(near)).round().astype(int)]
    pieces = sorted(set(near) | set(far))
    if len(pieces) < 2:
        raise DataError(
            f"fewer than 2 spike-free stretches of {length} samples in the training sweeps (threshold "
            f"{rule.threshold:g}, refractory {rule.refractory:g}); use more sweeps, a higher sampling rate or "
            "shorter training windows."
        )
    y = np.stack([data.y[k, end - length:end] for k, end in pieces])
    u = np.stack([data.u[k, end - length:end] for k, end in pieces])
    return Trajectories(data.t[:length] - data.t[0], y, u, data.states, data.inputs)
