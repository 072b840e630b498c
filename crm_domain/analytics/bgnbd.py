"""BG/NBD (Fader, Hardie & Lee 2005) for repeat-purchase counts and Gamma-Gamma (Fader,
Hardie & Lee 2005b, "RFM and CLV") for spend per purchase, fitted by maximum likelihood.

Inputs per customer, in one time unit (weeks here): x = repeat purchases, t_x = time of the
last purchase since the first, T = time from the first purchase to the end of observation;
and for Gamma-Gamma the mean value `m` of the repeat purchases (customers with x > 0 only).
The log-likelihoods are written out below and maximised with scipy.optimize (L-BFGS-B, two
starting points) over the logs of the parameters (which keeps them positive). Identical
(x, t_x, T) rows are folded into one with a weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

# Parameters are searched on a log scale within e^±12: wide enough for real data, and the
# degenerate fits of a handful of customers stop at the edge instead of wandering off.
LOG_BOUNDS = {n: [(-12.0, 12.0)] * n for n in (3, 4)}


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float
    log_likelihood: float


def _fold(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of the stacked columns and how many times each occurs."""
    stacked = np.column_stack(columns)
    rows, counts = np.unique(stacked, axis=0, return_counts=True)
    return rows, counts.astype(float)


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of BG/NBD (FHL 2005, equation 6)."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.full_like(x, -np.inf)
    a4[repeat] = (
        np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    )
    return a1 + a2 + np.logaddexp(a3, a4)


def fit_bgnbd(x, t_x, T) -> BgNbd:
    rows, weights = _fold(np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float))
    if len(rows) == 0 or weights.sum() < 2:
        raise ValueError("BG/NBD needs purchase histories of at least two customers.")
    fx, ft, fT = rows[:, 0], rows[:, 1], rows[:, 2]
    scale = max(float(fT.max()), 1.0)  # fit in units of the longest history: better conditioned

    def negative(log_params):
        r, alpha, a, b = np.exp(log_params)
        with np.errstate(all="ignore"):  # the optimiser probes extremes; those score as -inf
            ll = bgnbd_log_likelihood((r, alpha, a, b), fx, ft / scale, fT / scale)
        total = float(np.dot(weights, ll))
        return -total if np.isfinite(total) else 1e300

    best = None
    for start in ([0.0, 0.0, 0.0, 0.0], [np.log(0.5), np.log(0.1), np.log(0.5), np.log(2.0)]):
        result = minimize(negative, np.array(start), method="L-BFGS-B", bounds=LOG_BOUNDS[4])
        if best is None or result.fun < best.fun:
            best = result
    r, alpha, a, b = np.exp(best.x)
    # Times were divided by `scale`: each purchase's density shifts by -log(scale).
    ll = -best.fun - float(np.dot(weights, fx)) * np.log(scale)
    return BgNbd(
        r=float(r), alpha=float(alpha * scale), a=float(a), b=float(b), log_likelihood=float(ll)
    )


def probability_alive(model: BgNbd, x, t_x, T) -> np.ndarray:
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    odds = np.zeros_like(x)
    repeat = x > 0
    odds[repeat] = (a / (b + x[repeat] - 1)) * ((alpha + T[repeat]) / (alpha + t_x[repeat])) ** (
        r + x[repeat]
    )
    return 1.0 / (1.0 + odds)


def expected_purchases(model: BgNbd, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005, equation 10)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    repeat = (x > 0).astype(float)
    tail = 1 + repeat * (a / (b + x + (1 - repeat) - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return head * body / tail


def gamma_gamma_log_likelihood(params, x, m) -> np.ndarray:
    p, q, gamma = params
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )


def fit_gamma_gamma(x, m) -> GammaGamma:
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    rows, weights = _fold(x[keep], m[keep])
    if weights.sum() < 2:
        raise ValueError("Gamma-Gamma needs at least two repeat buyers.")
    fx, fm = rows[:, 0], rows[:, 1]
    scale = float(np.median(fm))  # spend in units of the median: better conditioned

    def negative(log_params):
        p, q, g = np.exp(log_params)
        with np.errstate(all="ignore"):
            ll = gamma_gamma_log_likelihood((p, q, g), fx, fm / scale)
        total = float(np.dot(weights, ll))
        return -total if np.isfinite(total) else 1e300

    result = minimize(negative, np.zeros(3), method="L-BFGS-B", bounds=LOG_BOUNDS[3])
    p, q, g = np.exp(result.x)
    # Rescaling m by 1/scale shifts each customer's log-density by -log(scale).
    ll = -result.fun - float(weights.sum()) * np.log(scale)
    return GammaGamma(p=float(p), q=float(q), gamma=float(g * scale), log_likelihood=float(ll))


def expected_order_value(model: GammaGamma, x, m, population_mean: float | None = None):
    """E[spend per purchase | x, m]: a weighted mean of the customer's own mean and the
    population mean p*gamma/(q-1); customers with no repeat purchase get the population mean."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    p, q, g = model.p, model.q, model.gamma
    prior = population_mean if population_mean is not None else p * g / (q - 1) if q > 1 else 0
    out = np.full_like(x, float(prior))
    repeat = (x > 0) & (m > 0)
    out[repeat] = p * (g + x[repeat] * m[repeat]) / (p * x[repeat] + q - 1)
    return out
