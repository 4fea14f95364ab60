"""Tests of isingneuron.stats against exact results for AR(1) and iid series.

AR(1): x_{t+1} = phi x_t + sqrt(1 - phi^2) eps_t, started in its stationary law,
has unit variance, rho(t) = phi^|t| and therefore exactly

    tau_int = 1/2 + sum_{t>=1} phi^t = (1 + phi) / (2 (1 - phi)),
    N Var(mean) = (1 + phi)/(1 - phi) - 2 phi (1 - phi^N) / (N (1 - phi)^2).

Every tolerance below is a stated number of standard deviations of the
estimator (from its known sampling distribution) plus, where relevant, a
systematic term computed from the exact rho(t).
"""
import math
import warnings

import numpy as np
import pytest
from scipy.signal import lfilter

from isingneuron.stats import (ShortSeriesWarning, autocorrelation_function, binning_analysis,
                               integrated_autocorrelation_time, jackknife, mean_error)


def ar1(phi, n, seed):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n)
    e[1:] *= math.sqrt(1.0 - phi * phi)       # e[0] ~ N(0, 1): stationary start
    return lfilter([1.0], [1.0, -phi], e)


def tau_exact(phi):
    return (1.0 + phi) / (2.0 * (1.0 - phi))


def var_mean_exact(phi, n):
    return ((1 + phi) / (1 - phi) - 2 * phi * (1 - phi ** n) / (n * (1 - phi) ** 2)) / n


PHI = 0.8            # tau_int = 4.5 records
N = 2 ** 14          # = 3640 tau_int: far above the 50 tau_int warning limit
SEEDS = range(32)


@pytest.fixture(scope="module")
def ar1_runs():
    return [ar1(PHI, N, s) for s in SEEDS]


# ----------------------------------------------------------- autocorrelation time
def test_autocorrelation_function_of_ar1_is_phi_to_the_t(ar1_runs):
    # rho_hat(t) of one series has sd ~ sqrt(2 tau / N) = 0.023 (Bartlett); the mean of
    # 32 series has sd 0.0041, plus the O(t/N + tau/N) bias of the 1/N estimator
    # (< 0.001 for t <= 10): 5 sd = 0.021.
    rho = np.mean([autocorrelation_function(x)[:11] for x in ar1_runs], axis=0)
    assert rho[0] == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(rho, PHI ** np.arange(11), atol=0.021)


def test_tau_int_of_ar1_within_madras_sokal_error(ar1_runs):
    tau = tau_exact(PHI)
    results = [integrated_autocorrelation_time(x, full_output=True) for x in ar1_runs]
    est = np.array([r.tau_int for r in results])
    err = np.array([r.error for r in results])
    for r in results:
        # Sokal window: the smallest W with W >= 5 tau(W); tau ~ 4.5 so W ~ 22
        assert r.window >= 5 * r.tau_int and 15 <= r.window <= 35
        # window truncation bias, exact for AR(1): -sum_{t>W} phi^t
        trunc = PHI ** (r.window + 1) / (1 - PHI)
        # each estimate within 4 of its own sigma = tau sqrt(2(2W+1)/N) (~7.5 % here)
        assert abs(r.tau_int - tau) <= 4 * r.error + trunc
    # the mean of 32 seeds within 4 sigma/sqrt(32) (+ truncation bias, <= 0.03)
    assert abs(est.mean() - tau) <= 4 * err.mean() / math.sqrt(len(est)) + 0.03
    # the reported error is the Madras-Sokal asymptotic formula, which neglects the
    # normalisation by C(0) and window edge effects (both reduce the variance): it must
    # be of the right size. Sample sd of 32 seeds has relative sd 1/sqrt(62) = 13 %;
    # accept [0.4, 1.2] x the reported error (~ 4 sd each side of the ~0.7 expected).
    ratio = est.std(ddof=1) / err.mean()
    assert 0.4 <= ratio <= 1.2


def test_tau_int_of_iid_is_one_half():
    x = np.random.default_rng(7).standard_normal(2 ** 16)
    tau, err = integrated_autocorrelation_time(x)
    # sigma = 0.5 sqrt(2 (2W+1) / N) with W = 3: 0.0073; allow 4 sigma
    assert err == pytest.approx(0.5 * math.sqrt(2 * 7 / 2 ** 16), rel=0.1)
    assert abs(tau - 0.5) <= 4 * err


def test_tau_int_returns_nan_for_constant_series():
    tau, err = integrated_autocorrelation_time(np.full(100, 0.7))
    assert math.isnan(tau) and math.isnan(err)


def test_short_series_warning():
    x = ar1(0.95, 300, 1)    # tau_int = 19.5: 50 tau = 975 > 300 records
    with pytest.warns(ShortSeriesWarning, match="shorter than 50 tau_int"):
        integrated_autocorrelation_time(x)
    with pytest.warns(ShortSeriesWarning):
        mean_error(x)


def test_no_warning_for_long_series(ar1_runs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortSeriesWarning)
        integrated_autocorrelation_time(ar1_runs[0])
        mean_error(ar1_runs[0])


# ------------------------------------------------------------------------ binning
def test_binning_error_of_ar1_matches_exact_variance_of_mean(ar1_runs):
    exact = math.sqrt(var_mean_exact(PHI, N))
    ratios, z = [], []
    for x in ar1_runs:
        res = binning_analysis(x)
        assert res.converged
        nb = res.n_blocks[res.plateau_level]
        # the plateau error has relative sd 1/sqrt(2 (nb - 1)) (chi-squared with nb - 1
        # dof) plus that of the lag-1 correction, ~1/sqrt(nb): together
        # sqrt(1.5 / nb); allow 4 of them
        assert abs(res.error / exact - 1) <= 4 * math.sqrt(1.5 / nb)
        ratios.append(res.error / exact)
        z.append(res.mean / res.error)        # true mean is 0
    # unbiased on average: mean of 32 ratios, each sd <= 0.1 here -> 4 sd = 0.07
    assert abs(np.mean(ratios) - 1) <= 0.07
    # the error bars cover: sum of z^2 ~ chi2(32); 99.9 % interval [12.2, 62.5]
    assert 12.2 <= np.sum(np.square(z)) <= 62.5


def test_binning_levels_and_raw_errors_are_blocked_standard_errors():
    # levels built by hand: 8 values, block means at size 2 and 4
    x = np.array([1.0, 3.0, 2.0, 6.0, 5.0, 5.0, 0.0, 2.0])
    with pytest.warns(ShortSeriesWarning):    # 8 records cannot give 16 blocks
        res = binning_analysis(x)
    assert not res.converged
    np.testing.assert_array_equal(res.block_sizes, [1, 2, 4])
    np.testing.assert_array_equal(res.n_blocks, [8, 4, 2])
    b1 = np.array([2.0, 4.0, 5.0, 1.0])
    b2 = np.array([3.0, 3.0])
    np.testing.assert_allclose(res.errors, [np.std(x, ddof=1) / math.sqrt(8),
                                            np.std(b1, ddof=1) / 2.0, 0.0], rtol=1e-12)
    assert res.mean == pytest.approx(3.0)


def test_binning_of_iid_gives_naive_error_and_tau_one_half():
    x = np.random.default_rng(3).standard_normal(2 ** 16)
    m, err, tau = mean_error(x)
    naive = np.std(x, ddof=1) / 2 ** 8
    res = binning_analysis(x)
    nb = res.n_blocks[res.plateau_level]
    # iid: every level estimates the same error; relative sd sqrt(1.5/nb) (see above)
    assert abs(err / naive - 1) <= 4 * math.sqrt(1.5 / nb)
    assert abs(tau - 0.5) <= 0.5 * 2 * 4 * math.sqrt(1.5 / nb)   # tau ~ err^2
    # and the error is the correct size: sigma / sqrt(N) = 1 / 256
    assert err == pytest.approx(1 / 256, rel=4 * math.sqrt(1.5 / nb))


def test_binning_constant_series():
    res = binning_analysis(np.full(64, 0.7))   # 0.7 is inexact: the mean has rounding
    assert res.error == 0.0 and math.isnan(res.tau_int)
    assert res.mean == pytest.approx(0.7, rel=1e-15)


def test_binning_warns_for_random_walk():
    # a random walk never decorrelates: whatever level the test picks, the implied
    # tau_int is far above N/50 (or no plateau is found): the warning must fire
    x = np.cumsum(np.random.default_rng(0).standard_normal(256))
    with pytest.warns(ShortSeriesWarning):
        res = binning_analysis(x)
    assert (not res.converged) or res.tau_int > 256 / 50



# ------------------------------------------------- Sokal-window floor of the blocking error
def test_error_is_max_of_blocking_and_corrected_window_estimate():
    # the rule: error = max(blocking_error, window_error) with
    # window_error^2 = 2 tau_W var(x, ddof=0) / N * (1 + (2W + 1)/N) (Wolff's correction)
    iid = np.random.default_rng(8).standard_normal(999)
    for x in (ar1(0.9, 4000, 2), ar1(0.99, 2048, 5), iid):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ShortSeriesWarning)
            res = binning_analysis(x)
            sok = integrated_autocorrelation_time(x, full_output=True)
        n = x.size
        assert res.window == sok.window and res.window_tau_int == sok.tau_int
        expected = math.sqrt(2 * sok.tau_int * np.var(x) / n * (1 + (2 * sok.window + 1) / n))
        assert res.window_error == pytest.approx(expected, rel=1e-12)
        assert res.error == max(res.blocking_error, res.window_error)
        tau = 0.5 * (res.error / res.naive_error) ** 2
        assert res.tau_int == pytest.approx(tau, rel=1e-12)


def test_floor_off_gives_plain_blocking():
    x = ar1(0.99, 2048, 5)
    with pytest.warns(ShortSeriesWarning) as rec:
        res = binning_analysis(x, c=None)
    assert res.error == res.blocking_error
    assert math.isnan(res.window_error) and math.isnan(res.window_tau_int) and res.window == 0
    # without a window tau_int there is no block-length check; the plateau has its 16
    # blocks, so only the N < 50 tau_int warning remains
    assert res.converged
    assert "shorter than 50 tau_int" in str(rec[0].message)
    assert "not converged" not in str(rec[0].message)


def test_unconverged_plateau_is_floored_and_named():
    # tau_int = 99.5, N = 2048: the plateau is taken at blocks of 64 records (< 2 tau_int);
    # for this seed the window estimate is 1.4x the blocking one
    x = ar1(0.99, 2048, 5)
    with pytest.warns(ShortSeriesWarning, match=r"blocking plateau has not converged: level 6 "
                      r"has blocks of 64 records.*from the Sokal-window floor"):
        res = binning_analysis(x)
    assert not res.converged
    assert res.error == res.window_error > 1.3 * res.blocking_error


def test_floor_does_not_flag_a_long_series(ar1_runs):
    # N = 3640 tau_int: plateau blocks of >= 2 (tau_int - 1/2) records, no warning, and the
    # floor raises the error by at most the noise of the window estimate (Madras-Sokal:
    # relative sd of tau_W is sqrt(2 (2W + 1) / N), half that for the error, ~3.8 % for
    # W ~ 23; allow 4 of them)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortSeriesWarning)
        for x in ar1_runs[:8]:
            res = binning_analysis(x)
            assert res.converged
            assert res.block_sizes[res.plateau_level] >= 2 * (res.tau_int - 0.5)
            rel_sd = 0.5 * math.sqrt(2 * (2 * res.window + 1) / x.size)
            assert res.error <= res.blocking_error * (1 + 4 * rel_sd)


# ---------------------------------------------------------------------- jackknife
def test_jackknife_of_linear_function_is_blocked_standard_error():
    # algebraic identity: for f = mean, theta_i - theta_bar = -(B_i - Bbar)/(n - 1), so the
    # jackknife error equals std(block means, ddof=1)/sqrt(n); no bias.
    x = np.random.default_rng(11).standard_normal(1200)
    y = np.random.default_rng(12).standard_normal(1200)
    res = jackknife(lambda a: a, x, n_blocks=1200)
    assert res.value == pytest.approx(x.mean(), rel=1e-12)
    assert res.error == pytest.approx(np.std(x, ddof=1) / math.sqrt(1200), rel=1e-10)
    assert res.bias_corrected == pytest.approx(x.mean(), rel=1e-9)
    blocks = x.reshape(40, 30).mean(axis=1)
    res = jackknife(lambda a, b: 2 * a - 3 * b, x, y, n_blocks=40)
    comb = 2 * blocks - 3 * y.reshape(40, 30).mean(axis=1)
    assert res.error == pytest.approx(np.std(comb, ddof=1) / math.sqrt(40), rel=1e-10)
    assert abs(res.bias) < 1e-12


def test_jackknife_variance_bias_correction_gives_unbiased_sample_variance():
    # exact identity: leave-one-out jackknife of the plug-in variance <x^2> - <x>^2 is the
    # ddof=1 sample variance
    x = np.random.default_rng(5).normal(2.0, 3.0, 500)
    res = jackknife(lambda m1, m2: m2 - m1 ** 2, x, x ** 2, n_blocks=500)
    assert res.value == pytest.approx(np.var(x), rel=1e-10)
    assert res.bias_corrected == pytest.approx(np.var(x, ddof=1), rel=1e-9)


def test_jackknife_kurtosis_ratio_error_on_gaussian_data():
    # g = <x^4>/<x^2>^2 of N(0,1) data: g = 3; delta method with Var(x^2) = 2,
    # Var(x^4) = 96, Cov(x^2, x^4) = 12 gives Var(g_hat) = (96 + 36*2 - 2*6*12)/N = 24/N.
    n, n_rep = 4000, 20
    errs, vals = [], []
    for s in range(n_rep):
        x = np.random.default_rng(100 + s).standard_normal(n)
        res = jackknife(lambda m2, m4: m4 / m2 ** 2, x ** 2, x ** 4, n_blocks=50)
        errs.append(res.error)
        vals.append(res.bias_corrected)
    sigma = math.sqrt(24 / n)
    # each jackknife error (49 dof -> rel sd 0.10, inflated by x^8 tails to ~0.2) within
    # 4 of that sd -> [0.2, 1.8]; their mean (rel sd ~0.045) within 4 sd -> 18 %
    assert all(0.2 * sigma <= e <= 1.8 * sigma for e in errs)
    assert abs(np.mean(errs) / sigma - 1) <= 0.18
    # the mean of 20 estimates has sd sigma/sqrt(20); allow 4
    assert abs(np.mean(vals) - 3.0) <= 4 * sigma / math.sqrt(n_rep)


def test_jackknife_removes_first_order_bias():
    # second-order delta method: E[g_hat] = 3 + (1/2 * 18 * 2 - 2 * 12)/N = 3 - 6/N.
    # N = 100: plain bias -0.06. Over 3000 data sets the mean has sd sqrt(24/100/3000)
    # = 0.009 (4 sd = 0.036); the O(1/N^2) remainder is ~ 1e-3.
    n, n_rep = 100, 3000
    rng = np.random.default_rng(2024)
    plain, corrected = [], []
    f = lambda m2, m4: m4 / m2 ** 2  # noqa: E731
    for _ in range(n_rep):
        x = rng.standard_normal(n)
        res = jackknife(f, x ** 2, x ** 4, n_blocks=n, vectorized=True)
        plain.append(res.value)
        corrected.append(res.bias_corrected)
    se = math.sqrt(24 / n / n_rep)
    assert abs(np.mean(corrected) - 3.0) <= 4 * se
    assert abs(np.mean(plain) - (3.0 - 6.0 / n)) <= 4 * se
    # the correction is resolved: the two means differ by ~6/N = 0.06 >> 4 se
    assert np.mean(corrected) - np.mean(plain) > 0.03


def test_jackknife_vectorized_matches_loop_and_drops_leading_remainder():
    x = np.random.default_rng(9).standard_normal(103)   # 103 = 10 * 10 + 3
    f = lambda a, b: b / (1 + a ** 2)  # noqa: E731
    r1 = jackknife(f, x, x ** 2, n_blocks=10)
    r2 = jackknife(f, x, x ** 2, n_blocks=10, vectorized=True)
    r3 = jackknife(f, x[3:], x[3:] ** 2, n_blocks=10)
    for a, b, c in zip(r1, r2, r3):
        assert a == pytest.approx(b, rel=1e-12) and a == pytest.approx(c, rel=1e-12)


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("call, match", [
    (lambda: integrated_autocorrelation_time(np.zeros((3, 3))), "1-D"),
    (lambda: integrated_autocorrelation_time([1.0]), "at least 2"),
    (lambda: integrated_autocorrelation_time([1.0, np.nan, 2.0]), r"x\[1\] = nan"),
    (lambda: integrated_autocorrelation_time(np.arange(10.0), c=0), "c must be"),
    (lambda: binning_analysis([1.0, 2.0, 3.0]), "at least 4"),
    (lambda: binning_analysis(np.arange(10.0), confidence=1.5), "confidence"),
    (lambda: binning_analysis(np.arange(10.0), c=0.0), "c must be None or"),
    (lambda: jackknife(lambda a: a, np.arange(10.0), n_blocks=1), r"n_blocks .* got 1"),
    (lambda: jackknife(lambda a: a, np.arange(10.0), n_blocks=11), r"n_blocks .* got 11"),
    (lambda: jackknife(lambda a, b: a, np.arange(10.0), np.arange(9.0)), "same length"),
    (lambda: jackknife(lambda a: np.sum(a), np.arange(10.0), n_blocks=5, vectorized=True),
     "vectorized=False"),
])
def test_bad_parameters_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_import_isingneuron_does_not_import_scipy_or_numba():
    """scipy's subpackages and numba (with the kernels) are imported lazily, by the
    first function that needs them: ``import isingneuron`` stays well under 0.4 s."""
    import subprocess
    import sys
    heavy = ("scipy", "scipy.stats", "scipy.fft", "scipy.special", "scipy.integrate",
             "scipy.optimize", "numba", "isingneuron.kernels")
    code = f"import sys, isingneuron; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
