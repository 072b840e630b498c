"""Demo data for a first look. Today: one login per built-in role."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_domain.users import User, create_user

DEMO_PASSWORD = "weft-demo-2026"
DEMO_USERS = (
    ("admin", "系统管理员 Admin", ["admin"]),
    ("designer", "流程设计 Designer", ["process_designer"]),
    ("wang.fang", "王芳 (销售)", ["salesperson"]),
    ("li.qiang", "李强 (销售经理)", ["sales_manager"]),
    ("zhao.min", "赵敏 (总经理)", ["executive"]),
    ("chen.jie", "陈杰 (客服)", ["service_agent"]),
)


def load_demo_users(session: Session) -> list[User]:
    """Create the demo logins that are missing; returns the ones created."""
    existing = set(session.scalars(select(User.username)))
    created = []
    for username, display_name, roles in DEMO_USERS:
        if username not in existing:
            created.append(create_user(session, username, DEMO_PASSWORD, roles, display_name))
    return created
