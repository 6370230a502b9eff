"""The schedule of change as an iCalendar feed (RFC 5545), for calendar applications to
subscribe to: one VEVENT per change and per blackout window, times in UTC, text escaped,
lines folded at 75 octets and ended with CRLF."""

from __future__ import annotations

import datetime as dt

from .choices import ChangeState

S = ChangeState
PRODID = "-//SMS//Schedule of change//EN"
# How a change's state reads to a calendar: still to be decided, fixed, or off.
TENTATIVE_STATES = (S.SUBMITTED, S.ASSESSMENT, S.AWAITING_APPROVAL)
CANCELLED_STATES = (S.CANCELLED, S.REJECTED)


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    return (
        (text or "")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into pieces of at most 75 octets, continuation lines
    starting with a space (RFC 5545 3.1), never inside a UTF-8 character."""
    out, current, size = [], [], 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append("".join(current))
            current, size, limit = [" "], 1, 75
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n".join(out)


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def status_of(state: str) -> str:
    if state in CANCELLED_STATES:
        return "CANCELLED"
    if state in TENTATIVE_STATES:
        return "TENTATIVE"
    return "CONFIRMED"


def event(*, uid: str, stamp, start, end, summary: str, description: str, url: str = "", status: str = "",
          categories: str = "", modified=None) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{utc(stamp)}",
        f"DTSTART:{utc(start)}",
        f"DTEND:{utc(end)}",
        f"SUMMARY:{escape(summary)}",
        f"DESCRIPTION:{escape(description)}",
    ]
    if url:
        lines.append(f"URL:{url}")
    if status:
        lines.append(f"STATUS:{status}")
    if categories:
        lines.append(f"CATEGORIES:{escape(categories)}")
    if modified is not None:
        lines.append(f"LAST-MODIFIED:{utc(modified)}")
    lines.append("TRANSP:OPAQUE")
    lines.append("END:VEVENT")
    return lines


def calendar(entries, blackouts, *, name: str, uid_domain: str, change_url, now: dt.datetime) -> bytes:
    """The VCALENDAR of a schedule: ``entries`` are ``schedule.Entry`` rows,
    ``change_url(change)`` gives each change's absolute page address."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for entry in entries:
        change = entry.change
        details = [
            change.title,
            f"Type: {change.get_change_type_display()}. State: {change.get_state_display()}. "
            f"Risk: {change.get_risk_level_display()}." + (" Potential major impact." if change.is_major else ""),
        ]
        for c in entry.conflicts:
            details.append(f"Conflicts with {c['reference']} {c['title']}: {'; '.join(c['shares'])}.")
        for b in entry.blackouts:
            details.append(f"Inside the blackout window {b.name}.")
        flag = "[conflict] " if entry.flagged else ""
        lines += event(
            uid=f"change-{change.pk}@{uid_domain}",
            stamp=now,
            start=change.planned_start,
            end=change.planned_end,
            summary=f"{flag}{change.reference} {change.title}",
            description="\n".join(details),
            url=change_url(change),
            status=status_of(change.state),
            categories="Change",
            modified=change.updated_at,
        )
    for window in blackouts:
        names = ", ".join(s.title for s in window.services.all()) or "every service"
        lines += event(
            uid=f"blackout-{window.pk}@{uid_domain}",
            stamp=now,
            start=window.starts_at,
            end=window.ends_at,
            summary=f"Blackout: {window.name}",
            description=f"No change is deployed to {names}.\n{window.reason}".strip(),
            status="CONFIRMED",
            categories="Blackout",
            modified=window.updated_at,
        )
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
