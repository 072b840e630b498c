"""Make SpiffWorkflow's timers read Weft's injectable clock.

Spiff's timer event definitions call `datetime.now(timezone.utc)` directly, so timers could
neither be tested with travelled time nor replayed by `weft tick --now`. Swapping the module's
`datetime` name for a subclass whose `now()` asks `core.clock` fixes that in one place, without
copying Spiff's timer arithmetic.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module

from core import clock


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        current = clock.now()
        return current.astimezone(tz) if tz is not None else current.replace(tzinfo=None)


_timer_module.datetime = _ClockDatetime
