"""The exchange format: which columns a collection has, what headers they accept, how cells read.

Built fresh for each import or export from the collection's marshmallow schema (the API's
fields) and the active custom field definitions, so a field added a minute ago is a column now.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import fields as mm
from marshmallow import validate
from sqlalchemy.orm import Session

from crm_domain import custom_fields
from crm_domain.collections import Collection, get_collection

# Zh/en labels of the built-in fields, per collection, with extra accepted headers.
# A collection may add its own as `extra["labels"] = {field: {"zh": .., "en": .., "aliases": []}}`.
COMMON_LABELS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "id": ("系统编号", "ID", ("系统ID", "记录编号")),
    "owner_id": ("负责人编号", "Owner ID", ("负责人ID",)),
    "org_unit_id": ("部门编号", "Org unit ID", ("部门ID", "组织编号")),
    "created_at": ("创建时间", "Created at", ()),
    "updated_at": ("更新时间", "Updated at", ("修改时间",)),
    "version": ("版本", "Version", ()),
    "created_by_id": ("创建人编号", "Created by", ()),
    "external_key": ("外部编号", "External key", ("外部ID", "ERP编号")),
    "notes": ("备注", "Notes", ("说明",)),
    "name": ("名称", "Name", ()),
    "email": ("邮箱", "Email", ("电子邮箱", "电子邮件", "E-mail")),
    "phone": ("电话", "Phone", ("联系电话", "电话号码")),
    "customer_id": ("客户系统编号", "Customer ID", ("客户ID",)),
    "contact_id": ("联系人系统编号", "Contact ID", ("联系人ID",)),
    "status": ("状态", "Status", ()),
    "amount": ("金额", "Amount", ()),
    "currency": ("币种", "Currency", ("货币",)),
    "number": ("单号", "Number", ("编号",)),
    "order_id": ("订单系统编号", "Order ID", ("订单ID",)),
    "description": ("描述", "Description", ("说明",)),
    "order_no": ("订单号", "Order number", ("订单编号",)),
    "quote_no": ("报价单号", "Quote number", ()),
    "contract_no": ("合同号", "Contract number", ("合同编号",)),
    "ordered_on": ("下单日期", "Ordered on", ("订单日期",)),
    "promised_on": ("承诺交期", "Promised on", ("交货日期",)),
    "due_on": ("到期日", "Due on", ("应收日期",)),
    "paid_on": ("付款日期", "Paid on", ("收款日期",)),
    "paid_amount": ("已付金额", "Paid amount", ()),
    "method": ("付款方式", "Method", ("收款方式",)),
    "reference": ("流水号", "Reference", ("参考号",)),
    "instalment": ("期数", "Instalment", ()),
    "total": ("总金额", "Total", ("合计",)),
    "lines": ("明细", "Lines", ("订单明细",)),
    "product_id": ("产品系统编号", "Product ID", ()),
    "receivable_id": ("应收系统编号", "Receivable ID", ()),
    "contract_id": ("合同系统编号", "Contract ID", ()),
    "quote_id": ("报价系统编号", "Quote ID", ()),
}
LABELS: dict[str, dict[str, tuple[str, str, tuple[str, ...]]]] = {
    "customers": {
        "name": ("客户名称", "Name", ("客户", "公司名称", "单位名称", "名称", "Customer name")),
        "short_name": ("简称", "Short name", ("客户简称",)),
        "kind": ("客户类型", "Kind", ("类型",)),
        "relation": ("客户关系", "Relation", ("关系",)),
        "address": ("地址", "Address", ("详细地址", "公司地址")),
        "region": ("地区", "Region", ("区域", "所在地区")),
        "bank_name": ("开户行", "Bank name", ("开户银行",)),
        "bank_account": ("银行账号", "Bank account", ("账号", "银行帐号")),
        "tax_id": ("税号", "Tax ID", ("纳税人识别号", "统一社会信用代码", "信用代码")),
        "industry": ("行业", "Industry", ("所属行业",)),
        "company_nature": ("企业性质", "Company nature", ("公司性质",)),
        "size": ("规模", "Size", ("企业规模",)),
        "grade": ("等级", "Grade", ("客户等级",)),
        "credit_rating": ("信用评级", "Credit rating", ("信用等级",)),
        "credit_limit": ("信用额度", "Credit limit", ()),
        "cooperation_since": ("合作开始日期", "Cooperation since", ("合作起始日期", "合作日期")),
        "total_business": ("累计业务额", "Total business", ("业务总额",)),
        "lifecycle_stage": ("客户阶段", "Lifecycle stage", ("生命周期阶段", "阶段")),
        "tags": ("标签", "Tags", ()),
    },
    "contacts": {
        "name": ("姓名", "Name", ("联系人", "联系人姓名")),
        "title": ("职务", "Title", ("职位",)),
        "role": ("角色", "Role", ("联系人角色",)),
        "mobile": ("手机", "Mobile", ("手机号", "手机号码")),
        "wechat": ("微信", "WeChat", ("微信号",)),
        "is_primary": ("主要联系人", "Primary", ("是否主要联系人", "首要联系人")),
    },
    "products": {
        "sku": ("货号", "SKU", ("产品编码", "物料编码", "商品编码")),
        "name": ("产品名称", "Name", ("品名", "名称", "Product name")),
        "brand": ("品牌", "Brand", ()),
        "series": ("系列", "Series", ()),
        "unit": ("单位", "Unit", ("计量单位",)),
        "price": ("单价", "Price", ("价格",)),
        "warranty_months": ("保修月数", "Warranty months", ("质保期（月）", "保修期（月）")),
        "service_team_unit_id": ("服务团队编号", "Service team unit ID", ()),
        "active": ("启用", "Active", ("是否启用",)),
    },
    "interactions": {
        "channel": ("渠道", "Channel", ("方式",)),
        "direction": ("方向", "Direction", ()),
        "occurred_at": ("发生时间", "Occurred at", ("时间",)),
        "summary": ("摘要", "Summary", ("内容摘要",)),
        "details": ("详情", "Details", ("详细内容",)),
        "subject_type": ("关联类型", "Subject type", ()),
        "subject_id": ("关联编号", "Subject ID", ()),
    },
    "opportunities": {
        "title": ("商机名称", "Title", ("商机",)),
        "stage": ("商机阶段", "Stage", ("阶段", "销售阶段")),
        "probability": ("赢单概率", "Probability", ("成交概率",)),
        "expected_close": ("预计成交日期", "Expected close", ("预计签单日期",)),
        "source": ("商机来源", "Source", ("来源",)),
        "lost_reason": ("输单原因", "Lost reason", ("丢单原因",)),
    },
    "quotes": {
        "opportunity_id": ("商机系统编号", "Opportunity ID", ()),
        "valid_until": ("有效期至", "Valid until", ("报价有效期",)),
        "discount_percent": ("折扣率", "Discount percent", ("折扣(%)",)),
        "subtotal": ("小计", "Subtotal", ()),
        "discount_amount": ("折扣金额", "Discount amount", ()),
    },
    "contracts": {
        "title": ("合同名称", "Title", ()),
        "signed_on": ("签订日期", "Signed on", ("签约日期",)),
        "starts_on": ("生效日期", "Starts on", ("开始日期",)),
        "ends_on": ("到期日期", "Ends on", ("结束日期",)),
        "value": ("合同金额", "Value", ()),
        "renewal_of_id": ("续签自合同系统编号", "Renewal of ID", ()),
        "auto_renew": ("自动续签", "Auto renew", ()),
    },
    "payments": {"allocations": ("核销明细", "Allocations", ())},
    "commissions": {
        "user_id": ("销售员编号", "User ID", ()),
        "rate": ("提成比例", "Rate", ()),
        "base_amount": ("提成基数", "Base amount", ()),
        "period": ("期间", "Period", ("所属期间",)),
    },
    "sales-plans": {
        "user_id": ("销售员编号", "User ID", ()),
        "period": ("期间", "Period", ("计划期间",)),
        "target_amount": ("目标金额", "Target amount", ("销售目标",)),
    },
    "service-requests": {
        "channel": ("受理渠道", "Channel", ("渠道",)),
        "warranty_until": ("保修截止日期", "Warranty until", ("保修期至",)),
        "priority": ("优先级", "Priority", ()),
        "sla_due_at": ("处理时限", "SLA due at", ("SLA到期时间",)),
        "assignee_id": ("处理人编号", "Assignee ID", ()),
        "subject": ("主题", "Subject", ("标题",)),
        "resolution": ("处理结果", "Resolution", ("解决方案",)),
        "satisfaction": ("满意度", "Satisfaction", ()),
        "resolved_at": ("解决时间", "Resolved at", ()),
    },
    "defects": {
        "service_request_id": ("服务请求系统编号", "Service request ID", ()),
        "severity": ("严重程度", "Severity", ()),
        "root_cause": ("根本原因", "Root cause", ("原因",)),
    },
    "articles": {
        "title": ("标题", "Title", ()),
        "problem": ("问题", "Problem", ("问题描述",)),
        "solution": ("解决方法", "Solution", ("解决方案",)),
        "tags": ("标签", "Tags", ()),
    },
    "campaigns": {
        "channel": ("推广渠道", "Channel", ("渠道",)),
        "starts_on": ("开始日期", "Starts on", ()),
        "ends_on": ("结束日期", "Ends on", ()),
        "budget": ("预算", "Budget", ()),
        "segment": ("目标客户筛选条件", "Segment", ("客户筛选",)),
    },
}
# Chinese labels of stored codes, accepted on import (the code itself always works).
CHOICE_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "kind": {"company": ("企业", "公司", "单位"), "individual": ("个人",)},
    "relation": {
        "end_customer": ("终端客户",),
        "fabric_supplier": ("面料供应商",),
        "distributor": ("经销商", "分销商"),
        "retailer": ("零售商",),
        "partner": ("合作伙伴",),
    },
    "lifecycle_stage": {
        "prospect": ("潜在客户", "潜在"),
        "active": ("合作中", "活跃", "成交客户"),
        "dormant": ("休眠", "沉睡"),
        "lost": ("流失", "已流失"),
    },
    "role": {
        "decision_maker": ("决策人",),
        "purchaser": ("采购",),
        "finance": ("财务",),
        "technical": ("技术",),
        "user": ("使用人", "使用者"),
        "other": ("其他",),
    },
    "unit": {
        "piece": ("件", "个"),
        "metre": ("米",),
        "kg": ("千克", "公斤"),
        "roll": ("卷",),
        "sheet": ("张",),
        "set": ("套",),
        "dozen": ("打",),
        "square_metre": ("平方米",),
        "cubic_metre": ("立方米",),
    },
    "channel": {
        "visit": ("拜访", "面谈"),
        "phone": ("电话",),
        "email": ("邮件",),
        "fax": ("传真",),
        "letter": ("信函",),
        "web": ("网站",),
        "im": ("即时通讯", "微信"),
    },
    "direction": {"inbound": ("呼入", "来电", "来访"), "outbound": ("呼出", "去电", "回访")},
}
# How a parent record may be named instead of by id: (suffix, parent field, zh header).
PARENT_REFERENCES = (
    ("external_key", "external_key", "外部编号"),
    ("tax_id", "tax_id", "税号"),
    ("name", "name", "名称"),
)
READ_ONLY = ("version", "created_at", "updated_at", "created_by_id", "org_unit_id")
LIST_SEPARATORS = re.compile(r"[,，;；、|\n]")
TRUE_WORDS = {"true", "t", "yes", "y", "1", "是", "对", "√", "✓", "on", "启用", "有"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "否", "错", "×", "✗", "off", "停用", "无"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
EXCEL_EPOCH = date(1899, 12, 30)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?[\d\s().\-]*$")


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message is for the user."""


def header_key(text: Any) -> str:
    """Headers compare width-, case- and space-insensitively; `*` markers and `_` are ignored."""
    normal = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return re.sub(r"[\s_*\-]+", "", normal)


@dataclass(frozen=True)
class ExchangeColumn:
    name: str  # the API field name; `custom.<name>` for a custom field
    kind: str  # text, integer, decimal, boolean, date, datetime, list, choice, multi_choice
    label: dict  # {"zh": ..., "en": ...}
    aliases: tuple[str, ...] = ()
    required: bool = False  # needed to create a record
    importable: bool = True  # False: accepted in a file but ignored (read-only system columns)
    exported: bool = True
    sensitive: bool = False
    choices: dict = field(default_factory=dict)  # header_key(text) -> stored code
    reference: tuple[str, str] | None = None  # (parent collection, parent field) it names
    read_only_keys: tuple[str, ...] = ()  # json: keys of nested items the API computes

    @property
    def headers(self) -> tuple[str, ...]:
        labels = tuple(v for v in (self.label.get("zh"), self.label.get("en")) if v)
        return (self.name, *labels, *self.aliases)

    def header(self, language: str = "en") -> str:
        if language == "zh":
            return self.label.get("zh") or self.name
        return self.name

    def describe(self) -> dict:
        return {
            "name": self.name,
            "type": self.kind,
            "label": self.label,
            "headers": list(dict.fromkeys(self.headers)),
            "required": self.required,
            "importable": self.importable,
            "exported": self.exported,
            "sensitive": self.sensitive,
            "choices": sorted(set(self.choices.values())) or None,
        }

    # --- reading a cell -------------------------------------------------------------------------

    def read(self, value: Any) -> Any:
        """The API value of a cell, `None` for an empty cell; `CellError` when unreadable."""
        if value is None:
            return None
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                return None
            if value[0] == "'" and value[1:2] in FORMULA_START:  # our export's formula guard
                value = value[1:]
        reader = getattr(self, f"_read_{self.kind}")
        return reader(value)

    def _read_text(self, value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))  # Excel keeps phone numbers and tax ids as numbers
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return str(value)

    def _read_choice(self, value: Any) -> Any:
        text = self._read_text(value)
        return self.choices.get(header_key(text), text)

    def _read_multi_choice(self, value: Any) -> list:
        return [self._read_choice(part) for part in self._read_list(value)]

    def _read_list(self, value: Any) -> list[str]:
        if isinstance(value, list):
            return [str(v) for v in value]
        parts = LIST_SEPARATORS.split(self._read_text(value))
        return [part.strip() for part in parts if part.strip()]

    def _read_json(self, value: Any) -> Any:
        if isinstance(value, list | dict):
            parsed = value
        else:
            try:
                parsed = json.loads(str(value), parse_float=Decimal)
            except ValueError:
                raise CellError('Enter JSON, e.g. [{"product_id": 1, "quantity": 2}].') from None
        if self.read_only_keys and isinstance(parsed, list):
            parsed = [
                {k: v for k, v in item.items() if k not in self.read_only_keys}
                if isinstance(item, dict)
                else item
                for item in parsed
            ]
        return parsed

    def _read_integer(self, value: Any) -> int:
        if isinstance(value, bool):
            raise CellError("Enter a whole number.")
        if isinstance(value, int):
            return value
        number = self._read_decimal(value, message="Enter a whole number.")
        if number != number.to_integral_value():
            raise CellError("Enter a whole number.")
        return int(number)

    def _read_decimal(self, value: Any, message: str = "Enter a number.") -> Decimal:
        if isinstance(value, bool | date | datetime | time):
            raise CellError(message)
        if isinstance(value, int | float):
            return Decimal(str(value))
        text = unicodedata.normalize("NFKC", str(value))
        text = re.sub(r"[\s,¥$€]|RMB|CNY|元", "", text, flags=re.IGNORECASE)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError(message) from None
        if not number.is_finite():
            raise CellError(message)
        return number

    def _read_boolean(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        word = header_key(self._read_text(value))
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CellError("Enter yes or no (是/否, true/false, 1/0).")

    def _read_date(self, value: Any) -> str:
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, int | float) and not isinstance(value, bool):
            if 1 <= value < 2958466:  # a spreadsheet serial day number (up to 9999-12-31)
                return (EXCEL_EPOCH + timedelta(days=int(value))).isoformat()
            raise CellError("Enter a date like 2024-03-15.")
        text = unicodedata.normalize("NFKC", str(value)).strip()
        text = re.sub(r"[T ]00:00(:00)?$", "", text)
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
        raise CellError("Enter a date like 2024-03-15.")

    def _read_datetime(self, value: Any) -> str:
        if isinstance(value, datetime):
            instant = value
        elif isinstance(value, date):
            instant = datetime.combine(value, time())
        else:
            text = unicodedata.normalize("NFKC", str(value)).strip().replace("/", "-")
            try:
                instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise CellError("Enter a date and time like 2024-03-15T09:30:00+08:00.") from None
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        return instant.isoformat()

    # --- writing a cell -------------------------------------------------------------------------

    def cell(self, value: Any) -> Any:
        """The value of an API field as a spreadsheet cell (None for empty)."""
        if value is None:
            return None
        if self.kind == "json" or isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False, default=str)
        if isinstance(value, list):
            if any(isinstance(item, dict | list) for item in value):
                return json.dumps(value, ensure_ascii=False, default=str)
            return ",".join(str(item) for item in value)
        return value


@dataclass
class HeaderMap:
    """Which file column is which exchange column, and what is wrong with the header row."""

    columns: dict[int, ExchangeColumn]  # position in the row -> column
    headers: dict[str, str]  # column name -> the header as written in the file
    ignored: list[str]  # read-only columns, and unknown ones when told to ignore them
    errors: list[dict]
    headless: list[int] = field(default_factory=list)  # positions without a header (checked)
    strict: bool = True  # cells outside the named columns are errors (not ignored)

    def header_of(self, name: str) -> str:
        return self.headers.get(name, name)


@dataclass
class ExchangeFormat:
    collection: Collection
    columns: list[ExchangeColumn]
    keys: tuple[str, ...]  # unique fields a row is matched on (besides `id`)
    json_fields: frozenset = frozenset()  # columns holding structures (order lines, ...)

    def __post_init__(self) -> None:
        self.json_fields = frozenset(c.name for c in self.columns if c.kind == "json")

    @property
    def name(self) -> str:
        return self.collection.name

    def column(self, name: str) -> ExchangeColumn | None:
        return next((c for c in self.columns if c.name == name), None)

    def exported_columns(self) -> list[ExchangeColumn]:
        return [c for c in self.columns if c.exported]

    def describe(self) -> dict:
        return {
            "collection": self.name,
            "keys": ["id", *self.keys],
            "columns": [c.describe() for c in self.columns],
        }

    def map_headers(self, headers: list[Any], ignore_unknown: bool = False) -> HeaderMap:
        lookup: dict[str, ExchangeColumn] = {}
        # Built-in columns before custom ones; within each, exact names, then labels, then
        # aliases: an earlier claim on a header wins.
        built_in = [c for c in self.columns if not c.name.startswith("custom.")]
        custom = [c for c in self.columns if c.name.startswith("custom.")]
        for group in (built_in, custom):
            for pick in (
                lambda c: (c.name,),
                lambda c: tuple(v for v in c.label.values() if v),
                lambda c: c.aliases,
            ):
                for column in group:
                    for text in pick(column):
                        lookup.setdefault(header_key(text), column)
        columns: dict[int, ExchangeColumn] = {}
        written: dict[str, str] = {}
        ignored: list[str] = []
        errors: list[dict] = []
        headless: list[int] = []
        for position, raw in enumerate(headers):
            text = "" if raw is None else str(raw).strip()
            if not text:
                if not ignore_unknown:
                    headless.append(position)
                continue
            column = lookup.get(header_key(text))
            if column is None:
                if ignore_unknown:
                    ignored.append(text)
                else:
                    errors.append(
                        {
                            "row": 1,
                            "column": text,
                            "field": None,
                            "message": f"Unknown column '{text}'. Use a field name or its "
                            f"Chinese header (see the {self.name} exchange format), or ask to "
                            "ignore unknown columns.",
                        }
                    )
                continue
            if column.name in written:
                errors.append(
                    {
                        "row": 1,
                        "column": text,
                        "field": column.name,
                        "message": f"Columns '{written[column.name]}' and '{text}' are both "
                        f"'{column.name}'; keep one.",
                    }
                )
                continue
            written[column.name] = text
            if column.importable:
                columns[position] = column
            else:
                ignored.append(text)
        return HeaderMap(
            columns=columns,
            headers=written,
            ignored=ignored,
            errors=errors,
            headless=headless,
            strict=not ignore_unknown,
        )

    def missing_required(self, header_map: HeaderMap) -> list[ExchangeColumn]:
        present = set(header_map.headers)
        missing = []
        for column in self.columns:
            if not column.required or column.name in present:
                continue
            parent = self.collection.parent
            named = parent and any(n in present for n, _ in reference_names(self.collection))
            if named and column.name == parent[0]:
                continue
            missing.append(column)
        return missing


def _labels(collection: Collection, name: str) -> tuple[dict, tuple[str, ...]]:
    declared = collection.extra.get("labels", {}).get(name)
    if declared:
        label = {k: v for k, v in declared.items() if k in ("zh", "en")}
        return label, tuple(declared.get("aliases", ()))
    zh, en, aliases = LABELS.get(collection.name, {}).get(name) or COMMON_LABELS.get(
        name, (None, name.replace("_", " ").capitalize(), ())
    )
    return {"zh": zh, "en": en} if zh else {"en": en}, aliases


def _kind(schema_field: mm.Field) -> str:
    if isinstance(schema_field, mm.List):
        inner = schema_field.inner
        return "json" if isinstance(inner, mm.Nested | mm.Dict | mm.List) else "list"
    if isinstance(schema_field, mm.Nested | mm.Dict | mm.Method | mm.Function):
        return "json"
    if isinstance(schema_field, mm.Boolean):
        return "boolean"
    if isinstance(schema_field, mm.Integer):
        return "integer"
    if isinstance(schema_field, mm.Decimal | mm.Float | mm.Number):
        return "decimal"
    if isinstance(schema_field, mm.DateTime):
        return "datetime"
    if isinstance(schema_field, mm.Date):
        return "date"
    return "text"


def _built_in_choices(name: str, schema_field: mm.Field) -> dict:
    codes: list = []
    for validator in schema_field.validators:
        if isinstance(validator, validate.OneOf):
            codes = list(validator.choices)
    if not codes:
        return {}
    choices = {header_key(code): code for code in codes}
    for code, labels in CHOICE_LABELS.get(name, {}).items():
        if code in codes:
            for label in labels:
                choices.setdefault(header_key(label), code)
    return choices


def import_keys(collection: Collection) -> tuple[str, ...]:
    """Unique fields a row is matched on: declared in `extra`, else the model's unique columns."""
    declared = collection.extra.get("import_keys")
    if declared:
        return tuple(declared)
    schema_fields = collection.schema().fields
    table = collection.model.__table__
    unique = [
        column.name
        for column in table.columns
        if column.unique and column.name in schema_fields and not column.primary_key
    ]
    # external_key first: it is the other system's id; then the natural keys.
    return tuple(sorted(unique, key=lambda name: (name != "external_key", name)))


def exchange_format(session: Session | None, name: str) -> ExchangeFormat:
    """The collection's columns; `session=None` leaves out custom fields (the built-in format,
    as the reference documentation shows it)."""
    collection = get_collection(name)
    schema = collection.schema()
    columns: list[ExchangeColumn] = []

    def system(name: str, kind: str, **options) -> ExchangeColumn:
        label, aliases = _labels(collection, name)
        return ExchangeColumn(name=name, kind=kind, label=label, aliases=aliases, **options)

    columns.append(system("id", "integer"))
    parent_key = collection.parent[0] if collection.parent else None
    for field_name, schema_field in schema.fields.items():
        label, aliases = _labels(collection, field_name)
        kind = _kind(schema_field)
        choices = _built_in_choices(field_name, schema_field) if kind == "text" else {}
        columns.append(
            ExchangeColumn(
                name=field_name,
                kind="choice" if choices else kind,
                label=label,
                aliases=aliases,
                required=bool(schema_field.required),
                importable=not schema_field.dump_only,  # computed by the service: shown only
                sensitive=field_name in collection.sensitive,
                choices=choices,
                read_only_keys=_nested_read_only(schema_field),
            )
        )
        if field_name == parent_key:
            columns.extend(_reference_columns(collection))
    if collection.owned:
        columns.append(system("owner_id", "integer"))
        columns.append(system("org_unit_id", "integer", importable=False))
    columns.append(system("created_at", "datetime", importable=False))
    columns.append(system("updated_at", "datetime", importable=False))
    # Exported, and read back on import as the version the row was edited at (a stale row is
    # refused, like a stale PATCH); a file without it updates whatever version is stored.
    columns.append(system("version", "integer"))
    for definition in custom_fields.active_fields(session, name) if session is not None else ():
        columns.append(_custom_column(definition))
    return ExchangeFormat(collection=collection, columns=columns, keys=import_keys(collection))


def reference_names(collection: Collection) -> list[tuple[str, str]]:
    """(column name, parent field) of the ways a row may name its parent record."""
    _key, parent_name = collection.parent
    parent = get_collection(parent_name)
    parent_fields = parent.schema().fields
    prefix = parent_name.removesuffix("s").replace("-", "_")
    own = set(collection.schema().fields)
    names = []
    wanted = [*(f for _, f, _ in PARENT_REFERENCES), *import_keys(parent)]
    for parent_field in dict.fromkeys(wanted):
        if parent_field not in parent_fields:
            continue
        name = parent_field if parent_field.startswith(f"{prefix}_") else f"{prefix}_{parent_field}"
        if name not in own:
            names.append((name, parent_field))
    return names


def _reference_columns(collection: Collection) -> list[ExchangeColumn]:
    parent = get_collection(collection.parent[1])
    prefix = collection.parent[1].removesuffix("s").replace("-", "_")
    parent_zh = parent.label.get("zh", "")
    references = []
    for name, parent_field in reference_names(collection):
        label, _aliases = _labels(parent, parent_field)
        zh = label.get("zh") or parent_field
        references.append(
            ExchangeColumn(
                name=name,
                kind="text",
                label={
                    "zh": zh
                    if name == parent_field or zh.startswith(parent_zh)
                    else f"{parent_zh}{zh}",
                    "en": name if name == parent_field else f"{prefix.capitalize()} {parent_field}",
                },
                exported=False,
                reference=(parent.name, parent_field),
            )
        )
    return references


def _nested_read_only(schema_field: mm.Field) -> tuple[str, ...]:
    inner = schema_field.inner if isinstance(schema_field, mm.List) else schema_field
    if not isinstance(inner, mm.Nested):
        return ()
    return tuple(name for name, f in inner.schema.fields.items() if f.dump_only)


def _custom_column(definition: custom_fields.CustomField) -> ExchangeColumn:
    spec = definition.spec
    label = spec.get("label") or {}
    if isinstance(label, str):
        label = {"en": label}
    kind = spec["type"]
    choices: dict = {}
    if kind in ("choice", "multi_choice"):
        for choice in spec.get("choices", []):
            code = choice["value"]
            choices[header_key(code)] = code
            texts = choice.get("label") or {}
            for text in texts.values() if isinstance(texts, dict) else [texts]:
                choices.setdefault(header_key(text), code)
    column_kind = {
        "long_text": "text",
        "email": "text",
        "phone": "text",
        "reference": "integer",  # the id of the record it points to
    }.get(kind, kind)
    return ExchangeColumn(
        name=f"custom.{definition.name}",
        kind=column_kind,
        label={k: v for k, v in label.items() if k in ("zh", "en")},
        aliases=(definition.name, *(f"custom.{text}" for text in label.values() if text)),
        required=bool(spec.get("required")) and spec.get("default") is None,
        sensitive=definition.sensitive,
        choices=choices,
    )


def guard_formula(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in FORMULA_START and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value
