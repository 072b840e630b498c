"""RFM scores, the retention lifetime-value formula, seasonal forecasts and grading, checked
against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from crm_domain.analytics import clv_retention, forecast, grading, rfm

PARAMS = {
    "retention_rate": 0.8,
    "discount_rate": 0.1,
    "referral_rate": 0.1,
    "referral_credit": 0.5,
    "acquisition_cost": 1000.0,
    "marketing_cost": 200.0,
    "service_cost": 300.0,
    "product_cost_percent": 70.0,
}


def test_quintile_scores_rank_customers_in_fifths():
    recency = [5, 50, 20, 300, 100]
    frequency = [10, 1, 4, 2, 3]
    monetary = [900.0, 100.0, 500.0, 200.0, 300.0]
    scores = rfm.score(recency, frequency, monetary)
    assert scores["r_score"].tolist() == [5, 3, 4, 1, 2]  # fewest days since: best
    assert scores["f_score"].tolist() == [5, 1, 4, 2, 3]
    assert scores["m_score"].tolist() == [5, 1, 4, 2, 3]
    assert scores["rfm_score"].tolist()[0] == 555


def test_tied_customers_share_a_score():
    assert rfm.quintile_scores([7, 7, 7, 7]).tolist() == [3, 3, 3, 3]  # all alike: the middle score
    assert rfm.quintile_scores([]).tolist() == []


def test_retention_formula_term_by_term():
    # margin = 6 × 10,000 × 30 % − 300 − 200 = 17,500; L = 0.8 / (1.1 − 0.8) = 2.6667
    # base = 46,666.67; referral = 0.1 × 2.6667 × 0.5 × 46,666.67 = 6,222.22
    explained = clv_retention.explain(6, 10_000, PARAMS)
    assert explained["margin_per_year"] == 17_500
    assert explained["retained_years"] == pytest.approx(2.666667)
    assert explained["base_value"] == pytest.approx(46_666.67)
    assert explained["referral_value"] == pytest.approx(6_222.22)
    assert explained["clv"] == pytest.approx(46_666.67 + 6_222.22 - 1000, abs=0.01)
    vector = clv_retention.retention_clv([6, 0], [10_000, 0], PARAMS)
    assert vector[0] == pytest.approx(explained["clv"], abs=0.01)
    # no orders: the yearly costs are lost every retained year, then the acquisition cost
    assert vector[1] == pytest.approx(-500 * (1 + 0.1 * 0.5 * 0.8 / 0.3) * 0.8 / 0.3 - 1000)


def test_referral_credit_zero_switches_the_referral_term_off():
    explained = clv_retention.explain(6, 10_000, {**PARAMS, "referral_credit": 0})
    assert explained["referral_value"] == 0
    assert explained["clv"] == pytest.approx(46_666.67 - 1000, abs=0.01)


def test_seasonal_naive_repeats_the_same_quarter_a_year_earlier():
    method, values = forecast.forecast_quarters([10, 20, 30, 40, 12], 4)
    assert method == "seasonal_naive"
    assert values == [20, 30, 40, 12]


def test_holt_winters_continues_a_clean_seasonal_pattern():
    history = [100, 300, 200, 400] * 3  # no trend, a season summing to zero around 250
    method, values = forecast.forecast_quarters(history, 5)
    assert method == "holt_winters"
    assert values == pytest.approx([100, 300, 200, 400, 100], abs=1e-6)


def test_short_histories_fall_back_to_the_mean_and_never_go_negative():
    assert forecast.forecast_quarters([10, 20], 2) == ("mean", [15.0, 15.0])
    assert forecast.forecast_quarters([], 1) == ("none", [0.0])
    _, falling = forecast.forecast_quarters([400, 300, 200, 100, 50, 20, 10, 1], 4)
    assert min(falling) >= 0


def test_clusters_are_graded_by_their_sales():
    rng = np.random.default_rng(1)
    groups = []
    for recency, orders, sales in ((10, 20, 1e6), (60, 8, 2e5), (200, 3, 3e4), (500, 1, 2e3)):
        for _ in range(15):
            groups.append((recency + rng.normal(0, 2), orders, sales * rng.uniform(0.95, 1.05)))
    recency, frequency, monetary = (np.array(c) for c in zip(*groups, strict=True))
    matrix = grading.features(recency, frequency, monetary, np.ones(60), np.zeros(60))
    result = grading.cluster(matrix, monetary)
    assert result.k == 4
    assert result.grades.tolist() == ["A"] * 15 + ["B"] * 15 + ["C"] * 15 + ["D"] * 15


def test_too_few_customers_are_not_clustered():
    assert grading.cluster(np.ones((3, 5)), np.ones(3)) is None
