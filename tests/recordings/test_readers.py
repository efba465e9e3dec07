"""Readers and writers on real files (the shared ABF and Igor recordings) and NWB round trips."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from discover import DataError
from discover.recordings import Recording, read_recording, write_npz, write_nwb

DATA = Path(__file__).parents[2] / "examples" / "data"
ABF = DATA / "fsi_abf" / "2019_07_24_0055_fsi.abf"


@pytest.fixture
def recording():
    t = np.arange(200) * 1e-4  # s
    V = -65 + 10 * np.sin(np.arange(2)[:, None] + t[None] * 300)  # mV
    current = np.where(t > 0.005, 50.0, 0.0)[None].repeat(2, 0) * np.array([[1.0], [2.0]])  # pA
    return Recording(t, {"V": V, "I": current}, {"V": "mV", "I": "pA"}, "s", ("a", "b"), {"note": "synthetic"})


def test_real_abf_sweeps_units_and_protocol():
    rec = read_recording(ABF)
    assert rec.n_sweeps == 17 and rec.t.size == 60000 and rec.dt == pytest.approx(5e-5)
    assert rec.units == {"V": "mV", "I": "pA"} and rec.time_unit == "s"
    # sweep 12 of the step family: 0, +200 pA and -100 pA epochs; the cell spikes during +200 pA
    assert set(np.unique(rec.signals["I"][12])) == {-100.0, 0.0, 200.0}
    v = rec.signals["V"][12]
    assert -105 < v.min() < -95 and v.max() > 0


def test_real_igor_waves_match_the_shared_npz():
    folder = DATA / "bluepyefe_B6"
    rec = read_recording(folder / "B6_Ch3_IDRest_*.ibw", current=folder / "B6_Ch0_IDRest_*.ibw")
    assert rec.n_sweeps == 5 and rec.dt == pytest.approx(2.5e-4) and rec.units == {"V": "mV", "I": "pA"}
    assert rec.sweeps[0] == "B6_Ch3_IDRest_181"
    assert np.max(rec.signals["V"]) == pytest.approx(19.2178, abs=1e-3)  # the meta.json's V_max of the set


def test_nwb_round_trip(recording, tmp_path):
    path = write_nwb(recording, tmp_path / "cell.nwb")
    back = read_recording(path)
    assert back.sweeps == ("a", "b") and back.units == {"V": "mV", "I": "pA"}
    np.testing.assert_allclose(back.t, recording.t, rtol=0, atol=1e-12)
    for name in ("V", "I"):
        np.testing.assert_allclose(back.signals[name], recording.signals[name], rtol=1e-12)


def test_real_abf_through_nwb_keeps_every_sample(tmp_path):
    rec = read_recording(ABF).select([0, 12])
    back = read_recording(write_nwb(rec, tmp_path / "fsi.nwb"))
    np.testing.assert_allclose(back.signals["V"], rec.signals["V"], rtol=1e-12)
    np.testing.assert_allclose(back.signals["I"], rec.signals["I"], rtol=1e-12)


def test_npz_round_trip_and_csv(recording, tmp_path):
    back = read_recording(write_npz(recording, tmp_path / "r.npz"))
    assert back.units == recording.units and back.sweeps == recording.sweeps
    np.testing.assert_array_equal(back.signals["V"], recording.signals["V"])
    csv = tmp_path / "sweep.csv"
    csv.write_text("t_ms,V (mV),I [nA]\n0,-65,0.1\n0.1,-64,0.1\n0.2,-63,0.2\n0.3,-62,0.2\n")
    rec = read_recording(csv).in_units("s", I="pA")
    assert rec.units == {"V": "mV", "I": "pA"} and rec.dt == pytest.approx(1e-4)
    np.testing.assert_allclose(rec.signals["I"][0], [100, 100, 200, 200])


def test_units_selection_crop_decimate(recording):
    r = recording.in_units("ms", V="V")
    assert r.time_unit == "ms" and r.dt == pytest.approx(0.1)
    np.testing.assert_allclose(r.signals["V"], recording.signals["V"] * 1e-3)
    assert recording.select(["b"]).sweeps == ("b",) and recording.select([0]).sweeps == ("a",)
    cropped = recording.crop(0.005, 0.01)
    assert cropped.t[0] >= 0.005 and cropped.t[-1] < 0.01
    dec = recording.decimate(4)
    assert dec.t.size == 50 and dec.dt == pytest.approx(4e-4)
    np.testing.assert_allclose(dec.signals["V"][:, 0], recording.signals["V"][:, :4].mean(1))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda r, p: r.in_units(V="pA"), "is a voltage .* cannot be converted to 'pA'"),
        (lambda r, p: r.in_units(V="mv"), "Did you mean `mV`"),
        (lambda r, p: r.select(["c"]), "sweep 'c' is not one of"),
        (lambda r, p: r.select([5]), "sweep 5 does not exist"),
        (lambda r, p: r.crop(1.0, 2.0), "keeps 0 samples"),
        (lambda r, p: r.decimate(0), "whole number >= 1"),
        (lambda r, p: r.to_trajectories(["v"]), "no signal 'v'.*Did you mean `V`"),
        (lambda r, p: read_recording(p / "missing.abf"), "does not exist"),
        (lambda r, p: read_recording(p / "cell.mat"), "cannot tell the format"),
        (lambda r, p: write_nwb(r, p / "a.nwb") and write_nwb(r, p / "a.nwb"), "exists; pass overwrite=True"),
    ],
)
def test_bad_use_is_a_clear_error(recording, tmp_path, call, message):
    with pytest.raises(DataError, match=message):
        call(recording, tmp_path)


def test_unusable_files_are_clear_errors(tmp_path):
    junk = tmp_path / "junk.abf"
    junk.write_bytes(b"not an abf file at all" * 10)
    with pytest.raises(DataError, match="cannot read .* as ABF"):
        read_recording(junk)
    bad_nwb = tmp_path / "bad.nwb"
    bad_nwb.write_text("hello")
    with pytest.raises(DataError, match="cannot read .* as NWB"):
        read_recording(bad_nwb)
    np.savez(tmp_path / "nounits.npz", t=np.arange(5.0), V=np.zeros((1, 5)))
    with pytest.raises(DataError, match="does not say the units of \\['V'\\]"):
        read_recording(tmp_path / "nounits.npz")
    (tmp_path / "nounit.csv").write_text("time,V\n0,1\n1,2\n2,3\n")
    with pytest.raises(DataError, match="does not name its unit"):
        read_recording(tmp_path / "nounit.csv")
    t = np.array([0.0, 1.0, 1.0, 2.0])
    with pytest.raises(DataError, match="strictly increasing"):
        Recording(t, {"V": np.zeros(4)}, {"V": "mV"})
    with pytest.raises(DataError, match="has no unit"):
        Recording(np.arange(4.0), {"V": np.zeros(4)}, {})


def test_non_finite_samples_inside_a_sweep_name_the_signal_sweep_and_sample():
    V = np.zeros((3, 10))
    V[1, 4] = np.nan
    V[2, 6] = np.inf
    rec = Recording(np.arange(10.0), {"V": V}, {"V": "mV"})  # read: sweeps are checked once chosen
    with pytest.raises(DataError, match="signal 'V' holds nan inside sweep '1' \\(index 1\\) at sample 4 of 10"):
        rec.to_trajectories(["V"])
    with pytest.raises(DataError, match="holds inf inside sweep '2'"):
        rec.select([2]).to_trajectories(["V"])
    assert rec.select([0]).to_trajectories(["V"]).y.shape == (1, 10, 1)  # the bad sweeps left out


def ragged() -> Recording:
    """Three sweeps NaN-padded to one length, as ragged sweeps are stored: 100, 80 and 60 samples
    of V; the command current I is not padded."""
    V = np.full((3, 100), np.nan)
    for k, n in enumerate((100, 80, 60)):
        V[k, :n] = np.sin(np.arange(n) / 10.0)
    return Recording(np.arange(100) * 0.1, {"V": V, "I": np.ones((3, 100))}, {"V": "mV", "I": "pA"}, "ms")


def test_trailing_nan_padding_ends_a_sweep_and_unequal_sweeps_are_cut_with_a_warning():
    rec = ragged()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one sweep: shorter, but nothing else to cut
        assert rec.select([1]).to_trajectories(["V"], ["I"]).t.size == 80
    with pytest.warns(UserWarning, match="'0' \\(100 samples\\), '1' \\(80 samples\\) are cut to the 60 samples"):
        data = rec.to_trajectories(["V"], ["I"])
    assert data.y.shape == (3, 60, 1)
    np.testing.assert_allclose(data.y[2, :, 0], np.sin(np.arange(60) / 10.0))
    # NaN in the middle of a padded sweep is still an error
    rec.signals["V"][0, 30] = np.nan
    with pytest.raises(DataError, match="inside sweep '0' \\(index 0\\) at sample 30"):
        rec.select([0]).to_trajectories(["V"])


MODEL = {"model": {"states": ["V"], "inputs": ["I"], "units": {"V": "mV", "I": "pA"}, "time_unit": "ms"}}


def test_config_selects_sweeps_before_checking_them(tmp_path):
    """A sweep of NaN only (a failed sweep) does not stop the others from being used."""
    from discover import config_from_dict
    from discover.recordings import write_npz

    rec = ragged()
    rec.signals["V"][2] = np.nan
    write_npz(rec, tmp_path / "cell.npz")
    config = config_from_dict({**MODEL, "data": {"path": "cell.npz", "sweeps": [0], "heldout_sweeps": [1]}},
                              base_dir=tmp_path)
    train, held = config.load_data()
    assert (train.t.size, held.t.size) == (100, 80)
    config = config_from_dict({**MODEL, "data": {"path": "cell.npz", "sweeps": [0, 2]}}, base_dir=tmp_path)
    with pytest.raises(DataError, match="sweeps \\['2'\\] hold fewer than 3 samples"):
        config.load_data()



@pytest.mark.parametrize("suffix", [".nwb", ".abf", ".csv", ".npz"])
def test_random_bytes_in_any_format_give_only_our_error(suffix, tmp_path):
    """Property: whatever bytes a file holds, a reader returns a Recording or raises DataError."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.binary(max_size=400))
    def check(content):
        path = tmp_path / f"file{suffix}"
        path.write_bytes(content)
        try:
            read_recording(path, units={"V": "mV"}, time_unit="s")
        except DataError:
            pass

    check()


def test_nwb_sweeps_of_unequal_length_are_padded_so_a_short_one_can_be_left_out(tmp_path):
    """A short sweep no longer cuts every other sweep at reading: it is padded, and only cuts the
    others (with a warning) when it is chosen."""
    from datetime import datetime, timezone

    import pynwb

    nwb = pynwb.NWBFile(session_description="ragged", identifier="r", session_start_time=datetime.now(timezone.utc))
    electrode = nwb.create_icephys_electrode(name="e", description="e", device=nwb.create_device(name="amp"))
    for k, n in enumerate((300, 200)):
        common = {"electrode": electrode, "gain": 1.0, "rate": 10000.0, "starting_time": 0.0,
                  "sweep_number": np.uint32(k)}
        nwb.add_intracellular_recording(
            electrode=electrode,
            response=pynwb.icephys.CurrentClampSeries(name=f"V_{k}", data=np.full(n, -0.06), **common),
            stimulus=pynwb.icephys.CurrentClampStimulusSeries(name=f"I_{k}", data=np.zeros(n), **common))
    with pynwb.NWBHDF5IO(str(tmp_path / "r.nwb"), "w") as io:
        io.write(nwb)
    rec = read_recording(tmp_path / "r.nwb")
    assert rec.t.size == 300 and "NaN-padded" in rec.metadata["note"]
    assert rec.select([0]).to_trajectories(["V"], ["I"]).t.size == 300
    with pytest.warns(UserWarning, match="cut to the 200 samples"):
        assert rec.to_trajectories(["V"], ["I"]).t.size == 200


DRN = Path(__file__).parents[3] / "shared" / "data" / "recordings" / "gifk_drn" / "DRN158_GABA" / "DRN158_gaba_test.abf"


def test_abf_current_from_a_recorded_channel_and_labels_not_trusted():
    if not DRN.is_file():
        pytest.skip(f"the shared dorsal raphe recordings are not at {DRN} (a user's clone does not have them)")
    # this rig labels channel 0 'Im' and channel 1 'Vm'; their units (mV, pA) say which is which
    rec = read_recording(DRN, channel=0, current_channel=1)
    assert rec.n_sweeps == 10 and rec.units == {"V": "mV", "I": "pA"}
    assert rec.signals["V"].max() > 30 and rec.signals["I"].std() > 50  # spikes; the frozen noise current
    np.testing.assert_allclose(rec.signals["I"][0], rec.signals["I"][1], atol=5.0)  # repeats of one current
    with pytest.raises(DataError, match="records 'pA', not a voltage.*Im RIGHT, Vm RIGHT"):
        read_recording(DRN, channel=1, current_channel=0)
    with pytest.raises(DataError, match="`current_channel` = 2 .* 2 channel"):
        read_recording(DRN, channel=0, current_channel=2)
