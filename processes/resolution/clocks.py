"""Target clocks shared by incidents and service requests (clause 8.1).

Both kinds of record have a response target and a completion target (resolution of an
incident, fulfilment of a request) counted in working minutes of the service's
calendar from when the record was logged; both pause (an incident on hold, a request
waiting for approval) and keep breach flags that are set once and never unset. A
``Clock`` names the fields and states of one kind; the arithmetic is done once here,
on top of the working-time maths in ``working_time.py``.

Fields every clocked record has: ``state``, ``responded_at``, ``response_due_at``,
``response_breached``, ``paused_since`` and ``paused_minutes``; the completion fields
are named by the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from . import working_time as wt


@dataclass(frozen=True)
class Clock:
    running_states: tuple[str, ...]  # the clock runs
    open_states: tuple[str, ...]  # running or paused: time left is shown
    done_due: str  # e.g. "resolution_due_at"
    done_at: str  # e.g. "resolved_at"
    done_breached: str  # e.g. "resolution_breached"
    pause_moves_response: bool = False  # does paused time also push the response due time?

    def schedule(self, obj, cal: wt.WorkingCalendar, start: dt.datetime, response: int, done: int) -> None:
        """Set both due times: the targets (working minutes) from ``start``, the completion
        target (and the response one, if the clock says so) pushed out by paused time."""
        paused = obj.paused_minutes or 0
        try:
            obj.response_due_at = wt.add_working_minutes(
                cal, start, response + (paused if self.pause_moves_response else 0)
            )
            setattr(obj, self.done_due, wt.add_working_minutes(cal, start, done + paused))
        except wt.NoWorkingTime:
            obj.response_due_at = None
            setattr(obj, self.done_due, None)

    def close_pause(self, obj, cal: wt.WorkingCalendar, now: dt.datetime) -> bool:
        """End a running pause, adding its working minutes; True when there was one (then
        the caller reschedules)."""
        if obj.paused_since is None:
            return False
        obj.paused_minutes = (obj.paused_minutes or 0) + wt.working_minutes_between(cal, obj.paused_since, now)
        obj.paused_since = None
        return True

    def refresh_breaches(self, obj, now: dt.datetime) -> bool:
        """Set the breach flags from the due times (a breach is never unset); True when a
        flag changed."""
        running = obj.state in self.running_states
        changed = False
        if not obj.response_breached and obj.response_due_at is not None:
            responded = obj.responded_at or (now if running else None)
            if responded is not None and responded > obj.response_due_at:
                obj.response_breached = changed = True
        due = getattr(obj, self.done_due)
        if not getattr(obj, self.done_breached) and due is not None:
            done = getattr(obj, self.done_at) or (now if running else None)
            if done is not None and done > due:
                setattr(obj, self.done_breached, True)
                changed = True
        return changed

    def remaining_minutes(self, obj, calendar: Callable[[], wt.WorkingCalendar], now: dt.datetime) -> int | None:
        """Working minutes left to the completion target (negative when late), frozen
        while paused; None when the record is finished or has no due time."""
        due = getattr(obj, self.done_due)
        if due is None or obj.state not in self.open_states:
            return None
        cal = calendar()
        moment = obj.paused_since or now
        if moment <= due:
            return wt.working_minutes_between(cal, moment, due)
        return -wt.working_minutes_between(cal, due, moment)
