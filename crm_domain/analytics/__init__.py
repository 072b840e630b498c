"""Customer value analytics: RFM, lifetime value (retention formula and BG/NBD + Gamma-Gamma),
the value matrix, grades by clustering, profile reports, segments, sales and service figures.

One module per analysis. Per-customer figures are computed in bulk by `recompute` (SQL
aggregation + numpy) into `customer_metrics`; live figures (funnel, forecast, ageing, service)
are aggregated in SQL on request. Every read goes through `scope.visible`, the same data-scope
clause the REST collections use.
"""
