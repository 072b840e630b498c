"""Workflows this process saved, kept alive so the next change to the instance need not
rebuild what was just serialized.

A workflow object is exactly its serialized state plus the shared specs, so an entry pairs the
state string as written with the object it was written from. An entry is used only when the
row read in the current transaction holds that very string (and the same definition): a write
by anyone else, a rolled-back save or a restored backup all change the string, and the row is
then deserialized as usual. Each entry is handed to one loader only (taken out of the cache):
two requests never share a mutable workflow, and a loader that changes its workflow and then
fails takes the changed object with it. Only `runtime.save` puts entries back, right after it
serialized the object, which it never touches again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

CAPACITY = 512

_entries: OrderedDict[int, tuple[str, tuple[int, str], Any]] = OrderedDict()
_lock = threading.Lock()


def keep(instance_id: int, state: str, definition: Any, workflow: Any) -> None:
    """Remember the workflow that `state` was just serialized from."""
    with _lock:
        _entries[instance_id] = (state, _version_of(definition), workflow)
        _entries.move_to_end(instance_id)
        while len(_entries) > CAPACITY:
            _entries.popitem(last=False)


def take(instance_id: int, state: str, definition: Any) -> Any | None:
    """The live workflow for exactly this stored state, removed from the cache; else None."""
    with _lock:
        entry = _entries.pop(instance_id, None)
    if entry is None:
        return None
    kept_state, kept_version, workflow = entry
    if kept_version != _version_of(definition) or kept_state != state:
        return None
    return workflow


def _version_of(definition: Any) -> tuple[int, str]:
    # Ids alone can be handed out again (a rolled-back deploy on SQLite); hashes cannot.
    return definition.id, definition.content_hash


def clear() -> None:
    with _lock:
        _entries.clear()
