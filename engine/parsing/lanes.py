"""Lanes holding user tasks: Weft offers each task to the role its lane is named after."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from engine.parsing.documents import NS

ROLE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,79}$")


def lane_name_problems(process: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """(lane, why its name is not a role key) for each lane that hands a role to user tasks."""
    # A lane holding a subprocess hands its role to the user tasks inside it.
    holders = {
        element.get("id")
        for task in process.xpath(".//bpmn:userTask", namespaces=NS)
        for element in (task, *task.iterancestors())
    }
    # Like Spiff, the last lane listing a node wins, which is the innermost of nested lanes.
    lane_of: dict[str, etree._Element] = {}
    for ref in process.xpath(".//bpmn:lane/bpmn:flowNodeRef", namespaces=NS):
        lane_of[(ref.text or "").strip()] = ref.getparent()
    for lane in dict.fromkeys(lane for node, lane in lane_of.items() if node in holders):
        problem = _name_problem(lane)
        if problem is not None:
            yield lane, problem


def _name_problem(lane: etree._Element) -> str | None:
    name = (lane.get("name") or "").strip()
    if not name:
        return (
            f"Lane '{lane.get('id')}' holds user tasks but has no name; name it after the "
            "role whose members do them (a role key such as sales_manager)."
        )
    if ROLE_KEY.match(name):
        return None
    suggestion = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if suggestion and not suggestion[0].isalpha():
        suggestion = f"role_{suggestion}"
    example = f", e.g. '{suggestion[:80]}'" if suggestion else ""
    return (
        f"Lane name '{name}' is not a role key: a lane holding user tasks is named after "
        "a role, in lowercase letters, digits and _ starting with a letter"
        f"{example}."
    )
