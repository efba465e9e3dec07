"""Scoring model spike trains against recorded repeats of one frozen stimulus: Γ, intrinsic reliability, Md*."""

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from discover import DataError
from discover.validate import coincidence_factor, md_star, repeats_of_one_stimulus, score_repeats
from discover.validate._repeats import intrinsic_reliability

DURATION, DT = 10000.0, 0.1  # ms
SHARED = Path(__file__).parents[3] / "shared" / "data" / "recordings"


def base_train(rate: float = 0.007, seed: int = 0) -> np.ndarray:
    """A Poisson train (rate per ms) with at least 10 ms between spikes, as a cell's reliable response."""
    rng = np.random.default_rng(seed)
    times = np.cumsum(10.0 + rng.exponential(1.0 / rate, size=int(2 * rate * DURATION)))
    return times[times < DURATION - 20.0]


def jittered(train: np.ndarray, sd: float, seed: int) -> np.ndarray:
    return np.sort(train + np.random.default_rng(seed).normal(0.0, sd, train.size))


def direct_md_star(repeats, runs, duration, dt, window) -> float:
    """Md* written out as in Naud et al. 2011: binned trains, a rectangular window of ±window on one train,
    self-products of the repeats (and of the runs) averaged over distinct pairs, the model's own product
    for a single run."""
    n, half = int(round(duration / dt)), int(round(window / dt))

    def binned(s):
        x = np.zeros(n)
        np.add.at(x, np.floor(np.asarray(s) / dt).astype(int), 1.0)
        return x

    def dot(a, b):
        return float(np.sum(np.convolve(a, np.ones(2 * half + 1), mode="same") * b))

    d, m = [binned(s) for s in repeats], [binned(s) for s in runs]
    dm = dot(np.mean(d, axis=0), np.mean(m, axis=0))
    dd = np.mean([dot(a, b) for a, b in combinations(d, 2)])
    mm = np.mean([dot(a, b) for a, b in combinations(m, 2)]) if len(m) > 1 else dot(m[0], m[0])
    return 2 * dm / (dd + mm)


def test_identical_trains_score_one():
    train = base_train()
    score = score_repeats([train] * 5, [train], DURATION, DT)
    assert score.intrinsic == pytest.approx(1.0) and score.ratio == pytest.approx(1.0)
    assert score.gamma == pytest.approx((1.0,) * 5) and score.count_error == 0.0
    # a deterministic model (one run) has an Md*: its own product is the unbiased estimate for identical copies
    assert score.md_star == pytest.approx(1.0)
    assert score.as_dict()["gamma_ratio"] == score.ratio


def test_a_model_that_is_one_more_jittered_repeat_scores_as_a_repeat():
    base = base_train()
    repeats = [jittered(base, 1.5, seed) for seed in range(10)]
    runs = [jittered(base, 1.5, seed) for seed in range(100, 160)]
    score = score_repeats(repeats, runs, DURATION, DT)
    assert 0.9 < score.intrinsic < 0.97  # pairs jittered by 2.1 ms s.d. against a ±4 ms window
    assert score.ratio == pytest.approx(1.0, abs=0.05) and score.md_star == pytest.approx(1.0, abs=0.05)
    worse = score_repeats(repeats, [jittered(base, 20.0, seed) for seed in range(100, 160)], DURATION, DT)
    assert worse.ratio < 0.4 and worse.md_star < 0.7
    # Md* with the Kistler window (a rectangle on one train, not a positive-definite product) is not bounded
    # by 1: a model jittered by 5 ms scores 2 x 0.88 / (1 + 0.74) at ±8 ms, where Γ sees it clearly worse
    blurred = score_repeats(repeats, [jittered(base, 5.0, seed) for seed in range(100, 160)], DURATION, DT)
    assert blurred.md_star == pytest.approx(1.0, abs=0.03) and blurred.ratio < 0.7


def test_a_silent_model_and_a_poisson_model_score_near_zero():
    base = base_train()
    repeats = [jittered(base, 1.0, seed) for seed in range(10)]
    silent = score_repeats(repeats, [np.array([])], DURATION, DT)
    assert silent.ratio == 0.0 and silent.md_star == 0.0 and silent.count_error == -1.0
    rng = np.random.default_rng(7)
    poisson = [np.sort(rng.uniform(0, DURATION, base.size)) for _ in range(50)]  # the cell's rate, no timing
    score = score_repeats(repeats, poisson, DURATION, DT)
    assert abs(score.ratio) < 0.05 and abs(score.count_error) < 0.05
    # Md* compares densities: a flat one against a locked one scores 2c / (R + c), chance c over reliability R
    assert score.md_star < 0.3


def test_gamma_and_md_star_match_the_formulas_written_out():
    # data 10, 50, 90 and model 12, 70, 91 in 100 ms: 2 coincidences at ±4 ms; chance 2 nu window N_data
    gamma = (2 - 2 * 0.03 * 4 * 3) / (0.5 * 6) / (1 - 2 * 0.03 * 4)
    assert coincidence_factor(np.array([10.0, 50, 90]), np.array([12.0, 70, 91]), 100.0, 4.0) == pytest.approx(gamma)
    base = base_train(seed=3)
    repeats = [jittered(base, 2.0, seed)[::1 + seed % 2] for seed in range(4)]  # unequal counts too
    for runs in ([jittered(base, 3.0, 11)], [jittered(base, 3.0, seed) for seed in range(20, 25)]):
        expected = direct_md_star(repeats, runs, DURATION, DT, 8.0)
        assert md_star(repeats, runs, DURATION, DT, 8.0) == pytest.approx(expected)


def test_intrinsic_reliability_averages_both_orders_of_each_pair():
    # Γ is not symmetric (its chance correction uses the second train's rate): one order alone is biased
    base = base_train()
    repeats = [base, base[::2], jittered(base, 2.0, 1)]
    both = np.mean([coincidence_factor(a, b, DURATION, 4.0) for a in repeats for b in repeats if a is not b])
    assert intrinsic_reliability(repeats, DURATION) == pytest.approx(both)


def test_silent_pairs_say_nothing_and_are_left_out():
    base = base_train()
    score = score_repeats([base, base, np.array([])], [np.array([])], DURATION, DT)
    assert score.gamma[:2] == (0.0, 0.0) and np.isnan(score.gamma[2])  # a silent repeat and a silent model
    assert score.intrinsic == pytest.approx(1.0 / 3.0)  # the silent repeat misses every spike of the others
    assert np.isnan(md_star([np.array([])] * 3, [np.array([])], DURATION, DT))


def test_spikes_outside_the_stimulus_do_not_count():
    base = base_train()
    late = np.append(base, [DURATION + 5.0, DURATION + 50.0])  # the model ran on past the recording
    assert md_star([base] * 3, [late], DURATION, DT) == pytest.approx(1.0)


def test_bad_input_is_refused_with_the_fix():
    base = base_train()
    with pytest.raises(DataError, match="at least 2 repeats"):
        intrinsic_reliability([base], DURATION)
    with pytest.raises(DataError, match="at least 2 recorded repeats and 1 model run"):
        md_star([base, base], [], DURATION, DT)
    with pytest.raises(DataError, match="no model runs"):
        score_repeats([base, base], [], DURATION, DT)
    with pytest.raises(DataError, match="`duration` must be a positive time"):
        score_repeats([base, base], [base], -1.0, DT)
    with pytest.raises(DataError, match=r"runs\[0\] holds a spike time that is not finite"):
        score_repeats([base, base], [np.array([1.0, np.nan])], DURATION, DT)


def test_repeats_of_one_stimulus_needs_one_current_at_one_scale():
    rng = np.random.default_rng(0)
    frozen = 30.0 + 70.0 * rng.standard_normal(20000)
    repeats = [frozen + rng.normal(0, 2.0, frozen.size) for _ in range(4)]  # recorded: amplifier noise on top
    assert repeats_of_one_stimulus(repeats) and repeats_of_one_stimulus(np.array(repeats))
    assert not repeats_of_one_stimulus(repeats[:1])
    assert not repeats_of_one_stimulus([frozen, 30.0 + 70.0 * rng.standard_normal(frozen.size)])  # another noise
    assert not repeats_of_one_stimulus([frozen, frozen[:15000]])  # not the same length
    padded = np.append(frozen[:19900], np.full(100, np.nan))  # NaN padding is not samples
    assert repeats_of_one_stimulus([frozen[:19900], padded]) and not repeats_of_one_stimulus([frozen, padded[:15000]])
    # steps of 100 and 200 pA at the same times correlate perfectly: they are not repeats
    step = np.where((np.arange(20000) > 5000) & (np.arange(20000) < 15000), 1.0, 0.0)
    assert not repeats_of_one_stimulus([100.0 * step, 200.0 * step])
    assert not repeats_of_one_stimulus([100.0 * step, 100.0 * step + 50.0])  # same shape, another holding current
    assert repeats_of_one_stimulus([100.0 * step, 100.0 * step]) and repeats_of_one_stimulus([np.full(100, 5.0)] * 2)
    assert not repeats_of_one_stimulus([np.full(100, 5.0), np.full(100, 50.0)])


def test_shared_recordings_repeats_and_step_families():
    from discover.recordings import read_recording

    test = SHARED / "gifk_drn" / "DRN158_GABA" / "DRN158_gaba_test.abf"
    steps = SHARED / "bluepyefe_B6_IDRest" / "bluepyefe_B6_IDRest.npz"
    if not (test.is_file() and steps.is_file()):
        pytest.skip(f"the shared recordings are not at {SHARED} (a user's clone does not have them)")
    currents = read_recording(test, channel=0, current_channel=1).signals["I"]  # channel labels swapped
    assert repeats_of_one_stimulus(currents)  # 10 repeats of one frozen noise
    assert not repeats_of_one_stimulus(np.load(steps)["I"])  # 5 step amplitudes, pairwise correlation 0.995-0.999


def test_shared_raphe_repeats_score_each_other_as_a_model_would_at_best():
    from discover.cell import detect_spikes
    from discover.recordings import read_recording

    path = SHARED / "gifk_drn" / "DRN158_GABA" / "DRN158_gaba_test.abf"
    if not path.is_file():
        pytest.skip(f"the shared dorsal raphe recordings are not at {path} (a user's clone does not have them)")
    v = read_recording(path, channel=0, current_channel=1).signals["V"]
    trains = [o * DT for o in detect_spikes(v, DT)]
    # one repeat held out as a deterministic 'model' of the other nine: close to, not above, the cell's reliability
    score = score_repeats(trains[1:], trains[:1], v.shape[1] * DT, DT)
    assert score.intrinsic == pytest.approx(0.73, abs=0.03)
    assert 0.8 < score.ratio < 1.0 and 0.8 < score.md_star < 1.0
