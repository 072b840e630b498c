"""The process designer's console: catalogue, upload with a validation report, the bpmn-js
modeler, form and decision-table editors, version diffs, instance operations and migration.

`page_blueprints()` is what web.ui registers; each module has one page (or one job).
"""

from __future__ import annotations


def page_blueprints() -> tuple:
    from admin.designer import (
        catalogue_views,
        decision_views,
        diff_views,
        form_views,
        instance_views,
        migration_views,
        modeler_views,
        upload_views,
    )

    return (
        catalogue_views.bp,
        upload_views.bp,
        modeler_views.bp,
        form_views.bp,
        decision_views.bp,
        diff_views.bp,
        instance_views.bp,
        migration_views.bp,
    )
