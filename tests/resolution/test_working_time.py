"""Working-time arithmetic in service calendars: nights, weekends, holidays, time zones,
daylight-saving changes, overnight and 24x7 calendars, pauses."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from processes.resolution import working_time as wt

LON = ZoneInfo("Europe/London")
NY = ZoneInfo("America/New_York")


def business(zone="Europe/London", holidays=(), hours="Mon-Fri 09:00-17:00") -> wt.WorkingCalendar:
    return wt.WorkingCalendar(zone, wt.periods_from_json(wt.parse_periods(hours)), frozenset(holidays))


def at(y, m, d, h=0, mi=0, tz=LON):
    return dt.datetime(y, m, d, h, mi, tzinfo=tz)


# 2026-03-02 is a Monday.
@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (at(2026, 3, 2, 10), 60, at(2026, 3, 2, 11)),  # inside the day
        (at(2026, 3, 2, 16), 120, at(2026, 3, 3, 10)),  # across the night
        (at(2026, 3, 2, 7), 30, at(2026, 3, 2, 9, 30)),  # before opening
        (at(2026, 3, 2, 18), 30, at(2026, 3, 3, 9, 30)),  # after closing
        (at(2026, 3, 6, 16), 120, at(2026, 3, 9, 10)),  # Friday to Monday
        (at(2026, 3, 7, 12), 60, at(2026, 3, 9, 10)),  # logged on a Saturday
        (at(2026, 3, 2, 9), 8 * 60, at(2026, 3, 2, 17)),  # exactly one working day ends at closing
        (at(2026, 3, 2, 9), 5 * 8 * 60, at(2026, 3, 6, 17)),  # a working week
        (at(2026, 3, 2, 9), 5 * 8 * 60 + 1, at(2026, 3, 9, 9, 1)),
        (at(2026, 3, 2, 12), 0, at(2026, 3, 2, 12)),
        (at(2026, 3, 7, 12), 0, at(2026, 3, 7, 12)),  # zero minutes is the start, even at weekends
    ],
)
def test_add_working_minutes_in_business_hours(start, minutes, expected):
    assert wt.add_working_minutes(business(), start, minutes) == expected


def test_result_is_utc_and_naive_input_is_refused():
    result = wt.add_working_minutes(business(), at(2026, 7, 1, 10), 30)
    assert result.tzinfo == dt.UTC and result == dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)  # BST
    with pytest.raises(ValueError):
        wt.add_working_minutes(business(), dt.datetime(2026, 7, 1, 10), 30)
    with pytest.raises(ValueError):
        wt.add_working_minutes(business(), at(2026, 7, 1, 10), -1)


def test_holidays_are_skipped():
    cal = business(holidays={dt.date(2026, 12, 25), dt.date(2026, 12, 28)})
    # Thu 24 Dec 16:00 + 2h -> Fri 25 and Mon 28 are holidays -> Tue 29 10:00.
    assert wt.add_working_minutes(cal, at(2026, 12, 24, 16), 120) == at(2026, 12, 29, 10)
    assert wt.working_minutes_between(cal, at(2026, 12, 24, 16), at(2026, 12, 29, 10)) == 120


def test_start_in_other_zone_than_calendar():
    # 09:00 in New York is 14:00 in London (both on standard time in January).
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=NY)
    assert wt.add_working_minutes(business(), start, 120) == at(2026, 1, 5, 16)
    assert wt.add_working_minutes(business("America/New_York"), at(2026, 1, 5, 14), 120) == dt.datetime(
        2026, 1, 5, 11, 0, tzinfo=NY
    )


def test_dst_spring_forward_in_24x7_counts_real_minutes():
    cal = wt.WorkingCalendar.twenty_four_seven("Europe/London")
    # 29 March 2026: clocks go from 01:00 to 02:00; the day has 23 hours.
    start = at(2026, 3, 29, 0)
    end = at(2026, 3, 30, 0)
    assert wt.working_minutes_between(cal, start, end) == 23 * 60
    assert wt.add_working_minutes(cal, start, 23 * 60) == end


def test_dst_in_business_hours_keeps_local_opening_times():
    # Friday before, Monday after the October change (25 Oct 2026): still 09:00 local.
    cal = business()
    assert wt.add_working_minutes(cal, at(2026, 10, 23, 16, 30), 60) == at(2026, 10, 26, 9, 30)
    assert wt.working_minutes_between(cal, at(2026, 10, 23, 9), at(2026, 10, 27, 9)) == 16 * 60


def test_overnight_period_on_dst_night():
    # A night shift 22:00-06:00 on the night the clocks go back has nine real hours.
    cal = business(hours="Sat 22:00-06:00")
    assert wt.working_minutes_between(cal, at(2026, 10, 24, 12), at(2026, 10, 25, 12)) == 9 * 60


def test_overnight_calendar():
    cal = business(hours="Mon-Fri 22:00-06:00")
    # Monday 23:00 + 2h -> Tuesday 01:00 (after midnight, same shift).
    assert wt.add_working_minutes(cal, at(2026, 3, 2, 23), 120) == at(2026, 3, 3, 1)
    # Tuesday 05:00 + 2h -> one hour left in the shift, then Tuesday 22:00 + 1h.
    assert wt.add_working_minutes(cal, at(2026, 3, 3, 5), 120) == at(2026, 3, 3, 23)
    # Saturday 03:00 is still Friday night's shift.
    assert wt.working_minutes_between(cal, at(2026, 3, 7, 3), at(2026, 3, 7, 12)) == 3 * 60
    # Nothing on Saturday night.
    assert wt.working_minutes_between(cal, at(2026, 3, 7, 12), at(2026, 3, 8, 12)) == 0


def test_holiday_cuts_the_part_of_a_night_shift_falling_on_it():
    cal = business(hours="Mon-Fri 22:00-06:00", holidays={dt.date(2026, 3, 3)})
    # Monday night: 22:00-24:00 counts, Tuesday (holiday) 00:00-06:00 does not, nor Tuesday night's start.
    assert wt.working_minutes_between(cal, at(2026, 3, 2, 12), at(2026, 3, 3, 23, 59)) == 120
    assert wt.working_minutes_between(cal, at(2026, 3, 2, 12), at(2026, 3, 4, 6)) == 120 + 6 * 60


def test_whole_day_and_split_periods_and_overlaps():
    cal = business(hours="Mon 00:00-00:00\nTue 08:00-12:00, 13:00-17:00\nTue 11:00-14:00")
    assert wt.working_minutes_between(cal, at(2026, 3, 2), at(2026, 3, 3)) == 24 * 60
    # Overlapping periods merge: 08:00-17:00 on Tuesday.
    assert wt.working_minutes_between(cal, at(2026, 3, 3), at(2026, 3, 4)) == 9 * 60
    assert wt.add_working_minutes(cal, at(2026, 3, 3, 16), 120) == at(2026, 3, 9, 1)


def test_24x7():
    cal = wt.WorkingCalendar.twenty_four_seven()
    start = at(2026, 12, 25, 12)
    assert wt.add_working_minutes(cal, start, 90) == at(2026, 12, 25, 13, 30)
    assert wt.working_minutes_between(cal, start, at(2026, 12, 26, 12)) == 24 * 60


def test_between_edge_cases_and_pauses():
    cal = business()
    assert wt.working_minutes_between(cal, at(2026, 3, 2, 12), at(2026, 3, 2, 11)) == 0
    assert wt.working_minutes_between(cal, at(2026, 3, 2, 12), at(2026, 3, 2, 12)) == 0
    # Monday 10:00 to Wednesday 10:00 = 16 working hours; pause Monday 15:00 to Tuesday 11:00 takes 4 of them.
    pause = [(at(2026, 3, 2, 15), at(2026, 3, 3, 11))]
    assert wt.working_minutes_between(cal, at(2026, 3, 2, 10), at(2026, 3, 4, 10)) == 16 * 60
    assert wt.working_minutes_between(cal, at(2026, 3, 2, 10), at(2026, 3, 4, 10), pause) == 12 * 60
    # Overlapping and out-of-range pauses are merged and clipped.
    pauses = [*pause, (at(2026, 3, 3, 10), at(2026, 3, 3, 12)), (at(2026, 2, 1), at(2026, 2, 2))]
    assert wt.working_minutes_between(cal, at(2026, 3, 2, 10), at(2026, 3, 4, 10), pauses) == 11 * 60
    # Seconds are rounded down.
    assert wt.working_minutes_between(cal, at(2026, 3, 2, 10), at(2026, 3, 2, 10) + dt.timedelta(seconds=119)) == 1


def test_add_and_between_agree():
    cal = business(hours="Mon-Fri 08:30-12:00, 13:00-17:30\nSat 10:00-14:00", holidays={dt.date(2026, 4, 3)})
    start = at(2026, 3, 27, 11, 17)
    for minutes in (1, 59, 240, 511, 1000, 4321, 9999):
        due = wt.add_working_minutes(cal, start, minutes)
        assert wt.working_minutes_between(cal, start, due) == minutes, minutes


def test_calendar_without_working_time_raises():
    cal = wt.WorkingCalendar("UTC", (), frozenset())
    with pytest.raises(wt.NoWorkingTime):
        wt.add_working_minutes(cal, at(2026, 3, 2), 10)


def test_parse_and_format_periods():
    rows = wt.parse_periods("Mon-Fri 08:00-18:00\nSat 09:00-13:00, 14:00-15:00\nsunday 22:00-06:00")
    assert rows[0] == {"day": 0, "start": "08:00", "end": "18:00"}
    assert len(rows) == 5 + 2 + 1
    assert wt.format_periods(rows) == "Mon-Fri 08:00-18:00\nSat 09:00-13:00, 14:00-15:00\nSun 22:00-06:00"
    assert [r["day"] for r in wt.parse_periods("Fri-Mon 10:00-11:00")] == [4, 5, 6, 0]
    assert wt.parse_periods("Mon 00:00-24:00")[0]["end"] == "24:00"
    for bad in ("Mon", "Funday 08:00-09:00", "Mon 25:00-26:00", "Mon 08:00", "Mon 8-x"):
        with pytest.raises(ValueError):
            wt.parse_periods(bad)
