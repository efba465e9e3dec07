import numpy as np
import pytest

from discover import ConfigError, example_data
from discover.validate import spike_times


def test_morris_lecar_steps_span_rest_to_tonic_firing_and_hold_out_amplitudes_between():
    train, heldout = example_data("morris_lecar", n_train=3, n_heldout=1, duration=400.0)
    assert train.states == ("V", "w") and train.inputs == ("I",) and train.dt == pytest.approx(0.5)
    assert train.t[-1] == pytest.approx(400.0) and train.y.shape == (3, 801, 2) and heldout.y.shape == (1, 801, 2)
    steps = [u[400, 0] for u in (*train.u, *heldout.u)]  # each sweep's step amplitude, mid-sweep
    assert steps[:3] == pytest.approx([60.0, 100.0, 120.0]) and steps[3] == pytest.approx(80.0)
    assert all(u[0, 0] == 0.0 for u in train.u)  # from rest, before the step
    spikes = [len(spike_times(train.t, v, 0.0)) for v in train.y[..., 0]]
    assert spikes[0] == 0 and spikes[-1] >= 3  # subthreshold at 60, tonic firing at 120
    assert np.all(np.abs(train.y[:, 0, 0] + 61) < 2)  # every sweep starts at Morris-Lecar's rest


def test_each_example_has_its_own_default_duration():
    assert example_data("fitzhugh_nagumo", n_train=1, n_heldout=1)[0].t[-1] == pytest.approx(100.0)
    assert example_data("morris_lecar", n_train=1, n_heldout=1)[0].t[-1] == pytest.approx(1000.0)
    with pytest.raises(ConfigError, match="`duration` must be a finite time >= 1"):
        example_data("morris_lecar", duration=0.5)
