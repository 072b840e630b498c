"""Seasonal forecasting of quarterly sales by hand with numpy.

Holt-Winters (additive trend and season, season length 4) when there are at least two years
of complete quarters, its smoothing constants chosen from a grid by the smallest one-step-ahead
squared error; seasonal naive (the same quarter a year earlier) with one to two years; the
mean with less. Forecasts are floored at zero: sales are not negative.
"""

from __future__ import annotations

import itertools

import numpy as np

SEASON = 4
GRID = (0.1, 0.3, 0.5, 0.7, 0.9)


def holt_winters(series, horizon: int, alpha: float, beta: float, gamma: float):
    """(one-step SSE, forecasts) of additive Holt-Winters on `series` (len >= 2 seasons)."""
    y = np.asarray(series, dtype=float)
    m = SEASON
    level = y[:m].mean()
    trend = (y[m : 2 * m].mean() - y[:m].mean()) / m
    season = list(y[:m] - level)
    sse = 0.0
    for t in range(m, len(y)):
        predicted = level + trend + season[t - m]
        sse += (y[t] - predicted) ** 2
        previous_level = level
        level = alpha * (y[t] - season[t - m]) + (1 - alpha) * (level + trend)
        trend = beta * (level - previous_level) + (1 - beta) * trend
        season.append(gamma * (y[t] - level) + (1 - gamma) * season[t - m])
    n = len(y)
    forecasts = [level + (h + 1) * trend + season[n - m + (h % m)] for h in range(horizon)]
    return sse, np.maximum(np.array(forecasts), 0.0)


def forecast_quarters(series, horizon: int) -> tuple[str, list[float]]:
    """(method, forecasts) for the next `horizon` quarters after `series`."""
    y = np.asarray(series, dtype=float)
    if len(y) >= 2 * SEASON:
        best = min(
            (holt_winters(y, horizon, a, b, g) for a, b, g in itertools.product(GRID, GRID, GRID)),
            key=lambda fitted: fitted[0],
        )
        return "holt_winters", [round(float(v), 2) for v in best[1]]
    if len(y) >= SEASON:
        return "seasonal_naive", [
            round(float(y[len(y) - SEASON + (h % SEASON)]), 2) for h in range(horizon)
        ]
    if len(y):
        return "mean", [round(float(y.mean()), 2)] * horizon
    return "none", [0.0] * horizon
