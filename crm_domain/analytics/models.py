"""Tables of the analytics: settings rows, per-customer metrics, grade history, jobs, segments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base, JsonType, UtcDateTime
from crm_domain.records import OwnedMixin


class AnalyticsSetting(Base):
    """One parameter per row (CLV inputs, value-matrix thresholds): an admin edits a row and the
    next request reads it; nothing is cached in process memory."""

    __tablename__ = "analytics_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class CustomerMetrics(Base):
    """The latest recompute's figures for one customer (replaced wholesale by each run)."""

    __tablename__ = "customer_metrics"
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    first_order_on: Mapped[date | None] = mapped_column(Date)
    last_order_on: Mapped[date | None] = mapped_column(Date)
    recency_days: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer, default=0)  # orders
    monetary: Mapped[float] = mapped_column(Float, default=0.0)  # order totals
    paid: Mapped[float] = mapped_column(Float, default=0.0)  # payments received
    r_score: Mapped[int | None] = mapped_column(Integer)
    f_score: Mapped[int | None] = mapped_column(Integer)
    m_score: Mapped[int | None] = mapped_column(Integer)
    rfm_score: Mapped[int | None] = mapped_column(Integer, index=True)  # e.g. 545
    current_value: Mapped[float] = mapped_column(Float, default=0.0)  # trailing 12 months margin
    clv_retention: Mapped[float | None] = mapped_column(Float)
    expected_purchases: Mapped[float | None] = mapped_column(Float)  # next 12 months, BG/NBD
    probability_alive: Mapped[float | None] = mapped_column(Float)
    expected_order_value: Mapped[float | None] = mapped_column(Float)  # Gamma-Gamma
    clv_predicted: Mapped[float | None] = mapped_column(Float)  # BG/NBD x GG x margin, discounted
    potential_value: Mapped[float | None] = mapped_column(Float)
    product_value: Mapped[float] = mapped_column(Float, default=0.0)
    service_value: Mapped[float] = mapped_column(Float, default=0.0)
    cluster: Mapped[int | None] = mapped_column(Integer)
    grade: Mapped[str | None] = mapped_column(String(2))


class GradeChange(Base):
    """Who or what changed a customer's grade, when, from what to what, and why."""

    __tablename__ = "customer_grade_history"
    __table_args__ = (Index("ix_customer_grade_history_customer", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_grade: Mapped[str | None] = mapped_column(String(2))
    to_grade: Mapped[str | None] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(String(500))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("analytics_job.id"))


class AnalyticsJob(Base):
    """One recompute: queued → running → succeeded | failed, with progress 0..100."""

    __tablename__ = "analytics_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), default="recompute")
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str | None] = mapped_column(String(100))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    result: Mapped[dict] = mapped_column(JsonType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class Segment(OwnedMixin, Base):
    """A saved customer filter: the customer list's `q` and `filters` plus RFM/value ranges."""

    __tablename__ = "customer_segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    definition: Mapped[dict] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
