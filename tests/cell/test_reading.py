"""The deterministic reading the exports carry: V crossing its placed threshold, or the escape
noise's median, whichever places the training spikes better beyond chance."""

import dataclasses

import numpy as np
import pytest

from discover.cell._gif import Recorded
from discover.cell._reading import choose_reading
from discover.cell._simulate import simulate_gif
from tests.helpers import GIF_DT as DT, GIF_TRUE as TRUE, ou_current as noise

# a wide escape noise (DV 3 mV): the two readings part by several ms where V lingers near threshold
WIDE = dataclasses.replace(TRUE, threshold=dataclasses.replace(TRUE.threshold, DV=3.0))
OFFSET = -3.0


def cell(median: bool) -> Recorded:
    """Two 4 s sweeps whose recorded spikes are the ones one reading of WIDE makes."""
    sweeps = [noise(4.0, seed=s) for s in (11, 12)]
    trains = [simulate_gif(WIDE, i, DT, v0=-65.0, offset=0.0 if median else OFFSET, median=median)[0][0]
              for i in sweeps]
    # onsets as sample indices: a spike at the end of sample k is at time k * DT
    return Recorded(tuple(np.full(i.size, -65.0) for i in sweeps), tuple(sweeps),
                    tuple(np.round(t / DT).astype(int) for t in trains), DT)


@pytest.mark.parametrize("median", [True, False])
def test_the_reading_that_made_the_spikes_is_chosen(median):
    chosen, why = choose_reading(WIDE, cell(median), OFFSET)
    assert chosen is median, why
    assert why.startswith("deterministic reading: " + ("the escape noise median" if median else "V crossing VT -3"))
    assert "training Gamma 1.000" in why


def test_a_tie_keeps_the_crossing():
    # a sharp escape noise (DV 0.01 mV) makes both readings fire at the same samples
    sharp = dataclasses.replace(TRUE, threshold=dataclasses.replace(TRUE.threshold, DV=0.01))
    rec = cell(median=False)
    assert choose_reading(sharp, rec, 0.0)[0] is False
