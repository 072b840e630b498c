"""Customer grades A/B/C/D by clustering.

Features per customer who bought: recency (days), log(1 + orders), log(1 + sales), product
value (distinct products bought) and service value (mean satisfaction, the population's mean
when never rated), each standardised to mean 0 and variance 1. KMeans runs for k = 2..6 and
keeps the k with the best silhouette (chosen on a fixed-seed sample of at most 10,000
customers, silhouettes on 4,000), then clusters everyone with that k. Clusters
are ranked by their mean sales (past value) and labelled with grade index ⌊rank × 4 / k⌋, so
four clusters give A, B, C, D, and two give A and C. Customers who never bought keep their grade.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRADES = ("A", "B", "C", "D")
K_RANGE = range(2, 7)
SILHOUETTE_SAMPLE = 4000
SELECTION_SAMPLE = 10_000  # k is chosen on at most this many customers, then all are fitted
SEED = 2026


@dataclass
class Clustering:
    k: int
    silhouette: float
    labels: np.ndarray  # cluster per customer
    grades: np.ndarray  # grade letter per customer
    cluster_grades: dict[int, str]
    cluster_sales: dict[int, float]


def features(recency_days, frequency, monetary, product_value, service_value) -> np.ndarray:
    service = np.asarray(service_value, dtype=float).copy()
    rated = service > 0
    service[~rated] = service[rated].mean() if rated.any() else 0.0
    return np.column_stack(
        [
            np.asarray(recency_days, dtype=float),
            np.log1p(np.asarray(frequency, dtype=float)),
            np.log1p(np.maximum(np.asarray(monetary, dtype=float), 0)),
            np.asarray(product_value, dtype=float),
            service,
        ]
    )


def cluster(matrix: np.ndarray, sales: np.ndarray) -> Clustering | None:
    """None when there are too few distinct customers to cluster."""
    # Imported here: scikit-learn takes a while to load, and only the recompute needs it.
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    n = len(matrix)
    if n < 4 or len(np.unique(matrix, axis=0)) < 3:
        return None
    scaled = np.nan_to_num(StandardScaler().fit_transform(matrix))
    rng = np.random.default_rng(SEED)
    chosen = scaled if n <= SELECTION_SAMPLE else scaled[rng.choice(n, SELECTION_SAMPLE, False)]
    best: tuple[float, int] | None = None
    # One thread: on a shared server OpenMP's spinning threads cost more than they gain here.
    with threadpool_limits(1):
        for k in K_RANGE:
            if k >= len(chosen):
                break
            labels = KMeans(n_clusters=k, n_init=2, random_state=SEED).fit_predict(chosen)
            if len(set(labels)) < 2:
                continue
            sample = min(len(chosen), SILHOUETTE_SAMPLE)
            quality = float(silhouette_score(chosen, labels, sample_size=sample, random_state=SEED))
            if best is None or quality > best[0] + 1e-9:
                best = (quality, k)
        if best is None:
            return None
        quality, k = best
        labels = KMeans(n_clusters=k, n_init=3, random_state=SEED).fit_predict(scaled)
    sales = np.asarray(sales, dtype=float)
    mean_sales = {int(c): float(sales[labels == c].mean()) for c in np.unique(labels)}
    ranked = sorted(mean_sales, key=lambda c: -mean_sales[c])
    cluster_grades = {c: GRADES[rank * 4 // len(ranked)] for rank, c in enumerate(ranked)}
    grades = np.array([cluster_grades[int(c)] for c in labels])
    return Clustering(k, quality, labels, grades, cluster_grades, mean_sales)
