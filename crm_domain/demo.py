"""Demo data: a mid-size textile and apparel manufacturer, believable enough to click around.

An org tree with branches and offices, a few dozen users across the roles, a few thousand
customers with contacts, a product catalogue, and two years of interactions. Deterministic
(seeded), and loaded only into an empty CRM, so `make run` can call it every time.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock
from crm_domain.customers import Contact, Customer, pinyin_of
from crm_domain.interactions import CHANNELS, Interaction
from crm_domain.orders import OrderLine, Payment, Receivable, SalesOrder
from crm_domain.org import OrgUnit, create_org_unit
from crm_domain.products import Product
from crm_domain.service import SLA_HOURS, ServiceRequest
from crm_domain.settings import working_calendar
from crm_domain.users import User, create_user

DEMO_PASSWORD = "weft-demo-2026"
DEMO_USERS = (
    ("admin", "系统管理员 Admin", ["admin"], "group"),
    ("designer", "流程设计 Designer", ["process_designer"], "hq"),
    ("wang.fang", "王芳 (销售)", ["salesperson"], "suzhou"),
    ("li.qiang", "李强 (销售经理)", ["sales_manager"], "east"),
    ("zhao.min", "赵敏 (总经理)", ["executive"], "group"),
    ("chen.jie", "陈杰 (客服)", ["service_agent"], "suzhou"),
)
ORG_TREE = (  # (key, name, kind, parent key)
    ("group", "锦华纺织集团", "group", None),
    ("hq", "集团总部", "headquarters", "group"),
    ("east", "华东分公司", "branch", "hq"),
    ("suzhou", "苏州办事处", "office", "east"),
    ("hangzhou", "杭州办事处", "office", "east"),
    ("south", "华南分公司", "branch", "hq"),
    ("guangzhou", "广州办事处", "office", "south"),
    ("north", "华北分公司", "branch", "hq"),
    ("beijing", "北京办事处", "office", "north"),
    ("workshop", "印染车间", "workshop", "hq"),
)
OFFICES = {
    "suzhou": "华东",
    "hangzhou": "华东",
    "guangzhou": "华南",
    "beijing": "华北",
}
CITIES = {
    "华东": ["苏州", "杭州", "无锡", "常州", "绍兴", "嘉兴", "宁波", "南通"],
    "华南": ["广州", "佛山", "东莞", "中山", "汕头"],
    "华北": ["北京", "天津", "石家庄", "保定"],
}
BRAND_WORDS = "锦华 恒丰 美亚 申洲 鲁泰 华孚 盛虹 凯盛 永新 雅戈 森马 太平 嘉欣 红豆 波司".split()
TRADES = (
    ("纺织有限公司", "textile", "fabric_supplier"),
    ("服饰有限公司", "apparel", "end_customer"),
    ("制衣厂", "apparel", "end_customer"),
    ("家纺有限公司", "home_textile", "end_customer"),
    ("面料贸易有限公司", "trading", "distributor"),
    ("服装连锁有限公司", "retail", "retailer"),
    ("木业有限公司", "wood_panel", "end_customer"),
)
SURNAMES = "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 林".split()
GIVEN = "芳 伟 敏 静 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 桂英 秀兰".split()
SUMMARIES = {
    "visit": ["上门拜访，看新季样品", "到厂验货", "洽谈年度框架协议"],
    "phone": ["电话确认交期", "电话催款", "客户来电询价"],
    "email": ["发送报价单", "邮件确认色卡", "寄送对账单"],
    "fax": ["传真订单确认", "传真合同盖章页"],
    "letter": ["寄送年度感谢信", "寄送样布"],
    "web": ["官网留言询价", "在线下单咨询"],
    "im": ["微信沟通打样进度", "微信发送面料照片"],
}
PRODUCT_LINES = {
    "锦华": {
        "涤纶面料": ["T-200 涤纶平纹", "T-350 涤纶斜纹"],
        "棉布": ["C-40 精梳棉", "C-60 府绸"],
    },
    "云锦": {"丝绸": ["S-16 真丝双绉", "S-22 桑蚕丝缎"], "针织": ["K-30 莫代尔汗布"]},
    "森林": {"板材": ["W-18 多层板 18mm", "W-09 刨花板 9mm"]},
}


def load_demo(session: Session, customers: int = 3000, seed: int = 2026) -> dict[str, int]:
    """Load the demo company into an empty CRM; returns counts of what was created."""
    if session.scalar(select(func.count()).select_from(Customer)):
        return {"users": len(_demo_users(session)), "customers": 0}
    rng = random.Random(seed)
    units = _org_tree(session)
    users = _users(session, units, rng)
    products = _products(session)
    made = _customers(session, units, users, rng, customers)
    orders = _orders_and_service(session, users, rng)
    return {"users": len(users), "customers": made, "products": products, **orders}


def _org_tree(session: Session) -> dict[str, OrgUnit]:
    units: dict[str, OrgUnit] = {}
    existing = {u.name: u for u in session.scalars(select(OrgUnit))}
    for key, name, kind, parent in ORG_TREE:
        unit = existing.get(name)
        if unit is None:
            unit = create_org_unit(session, name, kind, units[parent].id if parent else None)
        units[key] = unit
    return units


def _demo_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.username.in_([u[0] for u in DEMO_USERS]))))


def _users(session: Session, units: dict[str, OrgUnit], rng: random.Random) -> list[User]:
    existing = {u.username: u for u in session.scalars(select(User))}
    wanted = [(u, d, r, units[k].id) for u, d, r, k in DEMO_USERS]
    for office in OFFICES:
        for n in range(1, 4):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            wanted.append(
                (f"sales.{office}{n}", f"{name} (销售)", ["salesperson"], units[office].id)
            )
        wanted.append((f"service.{office}", "客服专员", ["service_agent"], units[office].id))
    for branch in ("south", "north"):
        wanted.append((f"manager.{branch}", "销售经理", ["sales_manager"], units[branch].id))
    wanted.append(("ceo", "总裁", ["executive"], units["group"].id))
    users = []
    for username, display, roles, unit_id in wanted:
        user = existing.get(username) or create_user(
            session, username, DEMO_PASSWORD, roles, display, org_unit_id=unit_id
        )
        users.append(user)
    return users


def _products(session: Session) -> int:
    count = 0
    for brand, series_items in PRODUCT_LINES.items():
        for series, items in series_items.items():
            for item in items:
                sku = item.split()[0]
                unit = "sheet" if brand == "森林" else "metre"
                price = Decimal(str(38 + 7 * len(item)))
                session.add(
                    Product(sku=sku, name=item, brand=brand, series=series, unit=unit, price=price)
                )
                count += 1
    session.flush()
    return count


def _customers(session, units, users, rng: random.Random, count: int) -> int:
    sellers = [u for u in users if "salesperson" in u.roles]
    today = clock.now().date()
    now = clock.now()
    taken: set[str] = set()
    for index in range(count):
        owner = sellers[index % len(sellers)]
        office = next(k for k, u in units.items() if u.id == owner.org_unit_id)
        region = OFFICES.get(office, "华东")
        city = rng.choice(CITIES[region])
        suffix, industry, relation = rng.choice(TRADES)
        brand = rng.choice(BRAND_WORDS)
        name = f"{city}{brand}{suffix}"
        while name in taken:
            name = f"{city}{brand}{rng.choice(BRAND_WORDS)}{suffix}"
        taken.add(name)
        since = today - timedelta(days=rng.randint(30, 3650))
        grade = rng.choices("ABCD", weights=(1, 3, 4, 2))[0]
        customer = Customer(
            name=name,
            short_name=f"{brand}{suffix[:2]}",
            pinyin=pinyin_of(name, f"{brand}{suffix[:2]}"),
            kind="company",
            relation=relation,
            address=f"{city}市工业园区{rng.randint(1, 300)}号",
            region=region,
            phone=f"0{rng.randint(200, 999)}-{rng.randint(60000000, 89999999)}",
            bank_name=f"中国工商银行{city}分行",
            bank_account=str(rng.randint(10**18, 10**19 - 1)),
            tax_id=f"913{rng.randint(10000, 99999)}MA{index:07d}X"[:18],
            industry=industry,
            company_nature=rng.choice(["私营企业", "股份制", "外资企业", "国有企业"]),
            size=rng.choice(["50人以下", "50-200人", "200-1000人", "1000人以上"]),
            grade=grade,
            credit_rating=rng.choice(["AAA", "AA", "A", "BBB", "BB"]),
            credit_limit=Decimal(rng.choice([50, 100, 200, 500, 1000]) * 1000),
            cooperation_since=since,
            total_business=Decimal(rng.randint(5, 2000) * 1000),
            lifecycle_stage=rng.choices(
                ["prospect", "active", "dormant", "lost"], weights=(2, 6, 2, 1)
            )[0],
            tags=rng.sample(["老客户", "出口", "快反", "大货", "样品单", "战略客户"], 2),
            owner_id=owner.id,
            org_unit_id=owner.org_unit_id,
            created_by_id=owner.id,
            created_at=now,
            updated_at=now,
            custom={},
        )
        session.add(customer)
        session.flush()
        _contacts_and_interactions(session, customer, owner, rng, since)
        if index % 500 == 499:
            session.flush()
            session.expunge_all()
    session.flush()
    return count


def _contacts_and_interactions(session, customer, owner, rng: random.Random, since: date) -> None:
    common = {
        "owner_id": customer.owner_id,
        "org_unit_id": customer.org_unit_id,
        "created_by_id": owner.id,
        "custom": {},
    }
    for n in range(rng.randint(1, 3)):
        session.add(
            Contact(
                customer_id=customer.id,
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                title=rng.choice(["采购经理", "总经理", "财务", "跟单员", "技术主管"]),
                role=rng.choice(["purchaser", "decision_maker", "finance", "technical"]),
                mobile=f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
                is_primary=n == 0,
                **common,
            )
        )
    start = max(since, clock.now().date() - timedelta(days=730))
    span = max((clock.now().date() - start).days, 1)
    for _ in range(rng.randint(2, 6)):
        channel = rng.choice(CHANNELS)
        occurred = clock.now() - timedelta(days=rng.randint(0, span), hours=rng.randint(0, 9))
        session.add(
            Interaction(
                customer_id=customer.id,
                channel=channel,
                direction=rng.choice(["inbound", "outbound"]),
                occurred_at=occurred,
                summary=rng.choice(SUMMARIES[channel]),
                **common,
            )
        )


# Apparel and textile demand: spring collections ordered in Feb-Mar, autumn/winter in Aug-Oct.
MONTH_WEIGHTS = (4, 8, 9, 6, 4, 3, 4, 8, 10, 9, 5, 3)
SERVICE_SUBJECTS = (
    ("面料色差投诉", "high"),
    ("缩水率超标", "normal"),
    ("交货延迟", "normal"),
    ("板材起泡开裂", "urgent"),
    ("索取质检报告", "low"),
)


def _orders_and_service(session: Session, users: list[User], rng: random.Random) -> dict:
    """Two years of orders with seasonality, their receivables and payments, some tickets."""
    products = list(session.scalars(select(Product)))
    agents = [u for u in users if "service_agent" in u.roles]
    today = clock.now().date()
    start = today - timedelta(days=730)
    days = [start + timedelta(days=n) for n in range(730)]
    weights = [MONTH_WEIGHTS[d.month - 1] for d in days]
    customers = session.execute(
        select(Customer.id, Customer.owner_id, Customer.org_unit_id, Customer.lifecycle_stage)
    ).all()
    counts = {"orders": 0, "payments": 0, "service_requests": 0}
    calendar = working_calendar(session)  # deadlines as the service desk counts them
    for customer_id, owner_id, unit_id, stage in customers:
        common = {"owner_id": owner_id, "org_unit_id": unit_id, "created_by_id": owner_id}
        orders = {"active": 6, "dormant": 2, "lost": 1}.get(stage, 0)
        for ordered_on in sorted(rng.choices(days, weights=weights, k=rng.randint(0, orders * 2))):
            counts["orders"] += 1
            _order(session, rng, customer_id, ordered_on, products, today, common, counts)
        if agents and rng.random() < 0.3:
            subject, priority = rng.choice(SERVICE_SUBJECTS)
            opened = clock.now() - timedelta(days=rng.randint(0, 700))
            resolved = rng.random() < 0.8
            agent = rng.choice(agents)
            session.add(
                ServiceRequest(
                    customer_id=customer_id,
                    channel=rng.choice(["phone", "email", "visit", "web", "im"]),
                    product_id=rng.choice(products).id,
                    priority=priority,
                    sla_due_at=calendar.add_working_hours(opened, SLA_HOURS[priority]),
                    status="closed" if resolved else "in_progress",
                    assignee_id=agent.id,
                    subject=subject,
                    resolution="已派技术人员处理并回访" if resolved else None,
                    resolved_at=opened + timedelta(hours=rng.randint(2, 96)) if resolved else None,
                    satisfaction=rng.choice([3, 4, 4, 5, 5]) if resolved else None,
                    created_at=opened,
                    updated_at=opened,
                    custom={},
                    owner_id=owner_id,
                    org_unit_id=unit_id,
                    created_by_id=agent.id,
                )
            )
            counts["service_requests"] += 1
        if counts["orders"] % 200 == 0:
            session.flush()
    session.flush()
    return counts


def _order(session, rng, customer_id, ordered_on, products, today, common, counts) -> None:
    number = counts["orders"]
    created = clock.now().replace(year=ordered_on.year, month=ordered_on.month, day=ordered_on.day)
    order = SalesOrder(
        customer_id=customer_id,
        order_no=f"SO{ordered_on:%Y%m}-{number:06d}",
        ordered_on=ordered_on,
        promised_on=ordered_on + timedelta(days=rng.choice([15, 20, 30, 45])),
        status="delivered" if ordered_on < today - timedelta(days=45) else "confirmed",
        custom={},
        created_at=created,
        updated_at=created,
        **common,
    )
    total = Decimal("0")
    for position, product in enumerate(rng.sample(products, rng.randint(1, 3))):
        quantity = Decimal(rng.randrange(200, 5000, 50))
        discount = Decimal(rng.choice([0, 0, 2, 5, 8]))
        amount = (quantity * product.price * (100 - discount) / 100).quantize(Decimal("0.01"))
        total += amount
        order.lines.append(
            OrderLine(
                position=position,
                product_id=product.id,
                description=product.name,
                quantity=quantity,
                unit_price=product.price,
                discount_percent=discount,
                amount=amount,
            )
        )
    order.total = total
    session.add(order)
    session.flush()
    due_on = ordered_on + timedelta(days=rng.choice([30, 60, 90]))
    receivable = Receivable(
        order_id=order.id,
        customer_id=customer_id,
        due_on=due_on,
        amount=total,
        paid_amount=Decimal("0"),
        custom={},
        created_at=created,
        updated_at=created,
        **common,
    )
    session.add(receivable)
    session.flush()
    # Most customers pay around the due date; a few are late or have not paid yet.
    paid_on = due_on + timedelta(days=rng.choice([-10, -3, 0, 0, 5, 15, 40]))
    if paid_on <= today and rng.random() < 0.92:
        receivable.paid_amount = total
        session.add(
            Payment(
                customer_id=customer_id,
                order_id=order.id,
                receivable_id=receivable.id,
                paid_on=paid_on,
                amount=total,
                method=rng.choice(["bank", "bank", "acceptance_bill"]),
                reference=f"BK{paid_on:%Y%m%d}{number:06d}",
                allocations=[{"receivable_id": receivable.id, "amount": str(total)}],
                custom={},
                created_at=created,
                updated_at=created,
                **common,
            )
        )
        counts["payments"] += 1


def load_demo_users(session: Session) -> list[User]:
    """Kept for callers that only want the logins: the org tree and the named users."""
    units = _org_tree(session)
    existing = set(session.scalars(select(User.username)))
    created = []
    for username, display, roles, unit_key in DEMO_USERS:
        if username not in existing:
            created.append(
                create_user(
                    session, username, DEMO_PASSWORD, roles, display, org_unit_id=units[unit_key].id
                )
            )
    return created
