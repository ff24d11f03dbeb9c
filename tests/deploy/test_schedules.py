"""Schedules: cron, interval and RRULE, their errors, and daylight saving time."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from cadenza.deploy.schedules import Cron, Interval, RRule, schedule_from_dict, schedule_from_parts
from cadenza.exceptions import ScheduleError

ZURICH = "Europe/Zurich"
TZ = ZoneInfo(ZURICH)
SPRING = dt.date(2024, 3, 31)  # 02:00 CET -> 03:00 CEST
AUTUMN = dt.date(2024, 10, 27)  # 03:00 CEST -> 02:00 CET


def local(t: dt.datetime) -> tuple[str, str]:
    return t.strftime("%Y-%m-%d %H:%M"), t.strftime("%z")


def around(day: dt.date, days: int = 1) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day - dt.timedelta(days=days), dt.time())
    return start, dt.datetime.combine(day + dt.timedelta(days=days + 1), dt.time())


def test_a_daily_0230_cron_on_the_spring_forward_day_runs_once_after_the_gap() -> None:
    times = Cron("30 2 * * *", ZURICH).next_times(*around(SPRING))
    assert [local(t) for t in times] == [
        ("2024-03-30 02:30", "+0100"),
        ("2024-03-31 03:30", "+0200"),  # 02:30 does not exist: one hour after 01:30
        ("2024-04-01 02:30", "+0200"),
    ]


def test_a_daily_0230_cron_on_the_fall_back_day_runs_once() -> None:
    times = Cron("30 2 * * *", ZURICH).next_times(*around(AUTUMN))
    assert [local(t) for t in times] == [
        ("2024-10-26 02:30", "+0200"),
        ("2024-10-27 02:30", "+0200"),  # the first of the two 02:30s only
        ("2024-10-28 02:30", "+0100"),
    ]
    gaps = {b.timestamp() - a.timestamp() for a, b in itertools.pairwise(times)}
    assert gaps == {86400.0, 90000.0}


def test_an_hourly_cron_runs_every_hour_of_absolute_time_across_both_changes() -> None:
    for day, hours in ((SPRING, 23), (AUTUMN, 25)):
        start = dt.datetime.combine(day, dt.time(), TZ)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), TZ)
        times = Cron("0 * * * *", ZURICH).next_times(start, end)
        assert len(times) == hours
        steps = {b.timestamp() - a.timestamp() for a, b in itertools.pairwise(times)}
        assert steps == {3600.0}


def test_an_interval_of_a_day_keeps_the_local_wall_time() -> None:
    daily = Interval(dt.timedelta(days=1), dt.datetime(2024, 3, 1, 9, 0), ZURICH)
    times = daily.next_times(*around(SPRING))
    assert [local(t)[0][-5:] for t in times] == ["09:00", "09:00", "09:00"]
    assert [local(t)[1] for t in times] == ["+0100", "+0200", "+0200"]
    times = daily.next_times(*around(AUTUMN))
    assert [local(t)[0][-5:] for t in times] == ["09:00", "09:00", "09:00"]


def test_an_interval_of_an_hour_stays_absolute() -> None:
    hourly = Interval(3600, dt.datetime(2024, 1, 1), ZURICH)
    start = dt.datetime(2024, 3, 31, 0, 0, tzinfo=TZ)
    times = hourly.next_times(start, start.timestamp() + 4 * 3600)  # four real hours
    assert [local(t)[0][-5:] for t in times] == ["00:00", "01:00", "03:00", "04:00"]
    assert Interval(300).next_times(dt.datetime(2024, 1, 1, 0, 1), dt.datetime(2024, 1, 1, 0, 11))[
        0
    ] == dt.datetime(2024, 1, 1, 0, 5, tzinfo=dt.UTC)


def test_rrule_and_cron_agree_on_the_third_of_each_month() -> None:
    start, end = dt.datetime(2024, 1, 1), dt.datetime(2024, 7, 1)
    cron = Cron("0 9 3 * *", ZURICH).next_times(start, end)
    rule = RRule("FREQ=MONTHLY;BYMONTHDAY=3;BYHOUR=9;BYMINUTE=0;BYSECOND=0", ZURICH)
    assert rule.next_times(start, end) == cron
    assert [t.month for t in cron] == [1, 2, 3, 4, 5, 6]
    assert {t.hour for t in cron} == {9}


def test_next_times_has_bounds_and_limits() -> None:
    cron = Cron("*/15 * * * *")
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert len(cron.next_times(start, start + dt.timedelta(hours=1))) == 4  # end excluded
    assert cron.next_times(start, start) == []
    assert len(cron.next_times(start, start + dt.timedelta(days=365), limit=3)) == 3
    assert cron.next_times(start.timestamp(), start.timestamp() + 901) == [
        start,
        start + dt.timedelta(minutes=15),
    ]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 * * * *", "the minute field '61'"),
        ("0 24 * * *", "the hour field '24'"),
        ("0 9 32 * *", "the day of month field '32'"),
        ("0 9 * 13 *", "the month field '13'"),
        ("0 9 * * 8", "the day of week field '8'"),
        ("0 9 * *", "has 4 field"),
        ("0 9 * * * *", "has 6 field"),
        ("@sometimes", "macros"),
        ("", "needs an expression"),
    ],
)
def test_a_bad_cron_names_the_field(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        Cron(expression)


def test_bad_intervals_rules_and_timezones_say_what_is_allowed() -> None:
    with pytest.raises(ScheduleError, match="more than 0 seconds"):
        Interval(0)
    with pytest.raises(ScheduleError, match="number of seconds"):
        Interval("often")  # type: ignore[arg-type]
    with pytest.raises(ScheduleError, match="FREQ"):
        RRule("FREQ=SOMETIMES")
    with pytest.raises(ScheduleError, match="must start with FREQ"):
        RRule("every monday")
    with pytest.raises(ScheduleError, match="IANA name"):
        Cron("0 9 * * *", "Europe/Zurch")


def test_schedules_round_trip_through_their_stored_and_json_forms() -> None:
    for s in (
        Cron("0 9 3 * *", ZURICH),
        Interval(600, dt.datetime(2024, 1, 1, 8, 0), ZURICH),
        RRule("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9", ZURICH),
    ):
        assert schedule_from_parts(s.kind, s.expression(), s.anchor(), s.timezone) == s
        assert schedule_from_dict(s.to_dict()) == (s, True)
    assert schedule_from_dict({"interval": "10m"})[0] == Interval(600)
    assert schedule_from_dict({"cron": "0 9 * * *", "active": False})[1] is False
    with pytest.raises(ScheduleError, match="exactly one"):
        schedule_from_dict({"cron": "0 9 * * *", "interval": 60})
    with pytest.raises(ScheduleError, match="Unknown schedule key"):
        schedule_from_dict({"cron": "0 9 * * *", "tz": "UTC"})
