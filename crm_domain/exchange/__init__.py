"""Import and export of CRM records as CSV or XLSX, in one documented exchange format.

The exchange format of a collection (see `columns.exchange_format`) is the API, one column per
field:

- A column is named by the API field name (`name`, `tax_id`, `credit_limit`), and also accepts
  its Chinese header (`客户名称`, `税号`, `信用额度`) and a few common synonyms (`统一社会信用代码`
  for `tax_id`). Headers match case-, width- and space-insensitively, so `Tax ID`, `tax_id` and
  `税号 ` are the same column; a trailing `*` (a "required" marker in templates) is ignored.
- Custom fields are columns named `custom.<name>`; their bare name or their zh/en label work as
  well, unless a built-in column already has that header.
- System columns (`id`, `owner_id`, `org_unit_id`, `created_at`, `updated_at`, `version`) are
  exported. On import `id` selects the record to update, `owner_id` hands new records to
  someone (as the API does), `version` says which version the row was edited from (a record
  changed since then is a row error, never overwritten; without the column the stored version
  is taken), and the read-only ones are ignored, so an export can be edited and imported back.
- Fields the service computes (an order's `total`, a receivable's `status`) are exported and
  ignored on import, like the system columns.
- Records with a parent (contacts belong to a customer) name it by `customer_id`, or by the
  parent's `external_key`, `tax_id`, `name` or other unique key (`customer_external_key`,
  `customer_tax_id`, `customer_name`; 客户外部编号, 客户税号, 客户名称; receivables name their
  order by `order_no`), looked up within your data scope.
- Structured fields (an order's `lines`) are one JSON cell: `[{"product_id": 7, "quantity": 100}]`.

Values: numbers may carry thousands separators and a currency sign (`¥500,000.00`); dates are
`2024-03-15`, `2024/3/15`, `2024.3.15`, `2024年3月15日` or a real spreadsheet date; datetimes
are ISO-8601 (naive means UTC, as in the API); yes/no is `true/false`, `1/0`, `yes/no`, `是/否`;
lists (tags, multi-choice) are separated by `,`, `，`, `、`, `;` or `|`; choices take the stored
code (`active`) or its Chinese label (`合作中`). An empty cell means "not given": on a new record
the default applies, on an existing record the value stays as it is.

Upsert: a row updates the record it matches by `id`, by a unique key (`external_key`; for
customers also `tax_id`, for products `sku`; a collection may list its own keys in
`extra["import_keys"]`), and otherwise creates one. Creates and updates go through
`record_service.create_record` / `update_record`, so validation, data scope, custom fields and
the audit trail are exactly the API's. Rows that would change nothing are left alone.

Exports mask sensitive fields without the `view_sensitive` grant; importing such a file back
leaves the masked values untouched.
"""

from crm_domain.exchange.columns import ExchangeColumn, ExchangeFormat, exchange_format
from crm_domain.exchange.exporting import export_records
from crm_domain.exchange.importing import ImportReport, import_records
from crm_domain.exchange.jobs import ImportJob
from crm_domain.exchange.reading import IMPORT_MAX_BYTES, IMPORT_MAX_ROWS, Table, read_table

__all__ = [
    "IMPORT_MAX_BYTES",
    "IMPORT_MAX_ROWS",
    "ExchangeColumn",
    "ExchangeFormat",
    "ImportJob",
    "ImportReport",
    "Table",
    "exchange_format",
    "export_records",
    "import_records",
    "read_table",
]
