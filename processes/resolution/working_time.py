"""Working-time arithmetic in a service calendar (clause 8.1: targets run in service hours).

Pure functions, no database: a ``WorkingCalendar`` is a time zone, weekly working periods
and holidays. ``add_working_minutes`` says when N working minutes after a moment end;
``working_minutes_between`` how many working minutes lie between two moments, less any
pauses (an incident on hold). All arithmetic is done in UTC, so days on which the clocks
change have their real length; periods are read in the calendar's local time.

A period ends on the next day when its end is not after its start (``22:00-06:00``);
``00:00-00:00`` is the whole day. A holiday removes all working time that falls on that
local date, including the part of an overnight period that crosses into it. A 24x7
calendar counts every minute and ignores holidays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
DAY_MINUTES = 24 * 60
# A calendar with no working time in this many days cannot reach any target.
MAX_SEARCH_DAYS = 3 * 366


class NoWorkingTime(ValueError):
    """The calendar has no working time, so no target can be reached."""


@dataclass(frozen=True)
class Period:
    weekday: int  # 0 = Monday
    start: int  # minutes after local midnight
    end: int  # minutes after local midnight; <= start: ends on the next day

    @property
    def length(self) -> int:
        return self.end - self.start if self.end > self.start else DAY_MINUTES - self.start + self.end


@dataclass(frozen=True)
class WorkingCalendar:
    time_zone: str = "UTC"
    periods: tuple[Period, ...] = ()
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    always: bool = False  # 24x7

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @classmethod
    def twenty_four_seven(cls, time_zone: str = "UTC") -> WorkingCalendar:
        return cls(time_zone=time_zone, always=True)


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Working-time arithmetic needs time-zone-aware datetimes.")
    return moment.astimezone(UTC)


def _local_instant(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of local ``day`` + ``minutes`` (may run into the next days).

    A local time that does not exist (the hour skipped in spring) is read with the offset
    in force before the change, so it lands just after the gap, as a clock would.
    """
    day = day + dt.timedelta(days=minutes // DAY_MINUTES)
    minutes %= DAY_MINUTES
    local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _day_intervals(cal: WorkingCalendar, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """Working intervals (UTC) that fall on local date ``day``, merged and sorted."""
    zone = cal.zone
    pieces: list[tuple[dt.datetime, dt.datetime]] = []
    if day in cal.holidays:
        return pieces
    weekday = day.weekday()
    yesterday = (weekday - 1) % 7
    for p in cal.periods:
        if p.weekday == weekday:
            # Today's part of a period that starts today (clipped at midnight).
            end = min(p.start + p.length, DAY_MINUTES)
            pieces.append((p.start, end))
        if p.weekday == yesterday and p.start + p.length > DAY_MINUTES:
            # The part after midnight of yesterday's overnight period.
            pieces.append((0, p.start + p.length - DAY_MINUTES))
    pieces.sort()
    merged: list[list[int]] = []
    for start, end in pieces:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(_local_instant(day, s, zone), _local_instant(day, e, zone)) for s, e in merged if e > s]


def _intervals_from(cal: WorkingCalendar, start: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Working intervals (UTC) from the local day of ``start`` on, for ever."""
    day = start.astimezone(cal.zone).date()
    empty_days = 0
    while True:
        intervals = _day_intervals(cal, day)
        empty_days = 0 if intervals else empty_days + 1
        if empty_days > MAX_SEARCH_DAYS:
            raise NoWorkingTime("The calendar has no working time.")
        yield from intervals
        day += dt.timedelta(days=1)


def _merge(spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for s, e in sorted((_aware(s), _aware(e)) for s, e in spans):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def add_working_minutes(cal: WorkingCalendar, start: dt.datetime, minutes: int) -> dt.datetime:
    """The moment at which ``minutes`` working minutes after ``start`` have passed.

    Zero minutes is ``start`` itself, even outside working hours. The result is in UTC.
    """
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    start = _aware(start)
    if minutes == 0:
        return start
    if cal.always:
        return start + dt.timedelta(minutes=minutes)
    remaining = dt.timedelta(minutes=minutes)
    for s, e in _intervals_from(cal, start):
        if e <= start:
            continue
        s = max(s, start)
        if remaining <= e - s:
            return s + remaining
        remaining -= e - s
    raise NoWorkingTime("The calendar has no working time.")  # pragma: no cover - the generator raises first


def working_seconds_between(
    cal: WorkingCalendar, start: dt.datetime, end: dt.datetime, pauses: Iterable[tuple[dt.datetime, dt.datetime]] = ()
) -> int:
    """Working seconds in [start, end), less those inside any pause. Negative spans give 0."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return 0
    paused = [(max(s, start), min(e, end)) for s, e in _merge(pauses) if e > start and s < end]
    if cal.always:
        spans = [(start, end)]
    else:
        spans = []
        day = start.astimezone(cal.zone).date()
        last = end.astimezone(cal.zone).date()
        while day <= last:
            for s, e in _day_intervals(cal, day):
                s, e = max(s, start), min(e, end)
                if e > s:
                    spans.append((s, e))
            day += dt.timedelta(days=1)
    total = dt.timedelta()
    for s, e in spans:
        total += e - s
        for ps, pe in paused:
            overlap = min(e, pe) - max(s, ps)
            if overlap > dt.timedelta():
                total -= overlap
    return int(total.total_seconds())


def working_minutes_between(
    cal: WorkingCalendar, start: dt.datetime, end: dt.datetime, pauses: Iterable[tuple[dt.datetime, dt.datetime]] = ()
) -> int:
    """Whole working minutes in [start, end), less pauses (rounded down)."""
    return working_seconds_between(cal, start, end, pauses) // 60


# --- the text form people type: "Mon-Fri 08:00-18:00" --------------------------------------
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _minutes(text: str) -> int:
    hours, _, mins = text.partition(":")
    h, m = int(hours), int(mins or 0)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(f"{text!r} is not a time of day.")
    return h * 60 + m


def _days(text: str) -> list[int]:
    names = [n.lower() for n in DAY_NAMES]
    first, _, last = text.partition("-")
    try:
        a = names.index(first.strip().lower()[:3])
        b = names.index(last.strip().lower()[:3]) if last else a
    except ValueError:
        raise ValueError(f"{text!r} is not a day or a range of days such as Mon-Fri.") from None
    return [(a + i) % 7 for i in range(((b - a) % 7) + 1)]


def parse_periods(text: str) -> list[dict]:
    """``"Mon-Fri 08:00-18:00\\nSat 09:00-13:00"`` -> ``[{"day": 0, "start": "08:00", "end": "18:00"}, ...]``.

    Several spans may follow the days, separated by commas: ``Mon 08:00-12:00, 13:00-17:00``.
    """
    out: list[dict] = []
    for n, raw in enumerate(text.replace(";", "\n").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        days_text, _, spans_text = line.partition(" ")
        if not spans_text.strip():
            raise ValueError(f"Line {n}: give the days, then the hours, e.g. Mon-Fri 08:00-18:00.")
        try:
            days = _days(days_text)
            for span in spans_text.split(","):
                start, sep, end = span.strip().partition("-")
                if not sep:
                    raise ValueError(f"{span.strip()!r} is not a span of hours such as 08:00-18:00.")
                s, e = _minutes(start.strip()), _minutes(end.strip())
                for d in days:
                    out.append({"day": d, "start": f"{s // 60:02d}:{s % 60:02d}", "end": f"{e // 60:02d}:{e % 60:02d}"})
        except ValueError as exc:
            raise ValueError(f"Line {n}: {exc}") from None
    return out


def periods_from_json(rows: Iterable[dict]) -> tuple[Period, ...]:
    periods = []
    for row in rows:
        day = int(row["day"])
        if not 0 <= day <= 6:
            raise ValueError(f"Day {day} is not 0 (Monday) to 6 (Sunday).")
        start, end = _minutes(str(row["start"])), _minutes(str(row["end"]))
        periods.append(Period(day, start % DAY_MINUTES, end % DAY_MINUTES if end != DAY_MINUTES else DAY_MINUTES))
    return tuple(periods)


def format_periods(rows: Iterable[dict]) -> str:
    """The text form of stored periods, one line per day and span set."""
    by_day: dict[int, list[str]] = {}
    for row in rows:
        by_day.setdefault(int(row["day"]), []).append(f"{row['start']}-{row['end']}")
    lines: list[str] = []
    day = 0
    while day < 7:
        spans = by_day.get(day)
        if not spans:
            day += 1
            continue
        last = day
        while last + 1 < 7 and by_day.get(last + 1) == spans:
            last += 1
        days = DAY_NAMES[day] if last == day else f"{DAY_NAMES[day]}-{DAY_NAMES[last]}"
        lines.append(f"{days} {', '.join(spans)}")
        day = last + 1
    return "\n".join(lines)
