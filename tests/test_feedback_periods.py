"""Periods of feedback reports and lists: codes, bounds, labels, the last completed one."""

import datetime as dt

import pytest

from linli.reports.feedback import Period


@pytest.mark.parametrize(
    ("code", "preset", "start", "last", "label"),
    [
        ("2026Q3", "quarterly", dt.date(2026, 7, 1), dt.date(2026, 9, 30), "2026年第3季度"),
        ("2026Q4", "quarterly", dt.date(2026, 10, 1), dt.date(2026, 12, 31), "2026年第4季度"),
        ("2026-02", "monthly", dt.date(2026, 2, 1), dt.date(2026, 2, 28), "2026年2月"),
        ("2028-02", "monthly", dt.date(2028, 2, 1), dt.date(2028, 2, 29), "2028年2月"),
        ("2026H1", "half_yearly", dt.date(2026, 1, 1), dt.date(2026, 6, 30), "2026年上半年"),
        ("2026H2", "half_yearly", dt.date(2026, 7, 1), dt.date(2026, 12, 31), "2026年下半年"),
        ("2026", "yearly", dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026年度"),
    ],
)
def test_codes_bounds_and_labels(code, preset, start, last, label):
    p = Period.parse(code)
    assert (p.preset, p.start, p.last, p.end, p.code, str(p.label)) == (
        preset,
        start,
        last,
        last + dt.timedelta(days=1),
        code,
        label,
    )


def test_other_spellings_parse_to_the_same_period():
    assert Period.parse("2026m07") == Period.parse("2026-7") == Period.parse(" 2026-07 ")
    assert Period.parse("2026q3") == Period("quarterly", 2026, 3)


@pytest.mark.parametrize("code", ["", "26Q3", "2026Q5", "2026-13", "2026-00", "2026H3", "Q3", "2026Q3x"])
def test_nonsense_is_refused(code):
    with pytest.raises(ValueError):
        Period.parse(code)


@pytest.mark.parametrize(
    ("preset", "today", "code"),
    [
        ("quarterly", dt.date(2026, 7, 1), "2026Q2"),
        ("quarterly", dt.date(2026, 9, 30), "2026Q2"),
        ("quarterly", dt.date(2026, 1, 15), "2025Q4"),
        ("monthly", dt.date(2026, 1, 1), "2025-12"),
        ("half_yearly", dt.date(2026, 7, 1), "2026H1"),
        ("yearly", dt.date(2026, 3, 3), "2025"),
    ],
)
def test_last_completed(preset, today, code):
    assert Period.last_completed(preset, today).code == code


def test_recent_periods_newest_first_across_years():
    codes = [p.code for p in Period.recent("quarterly", dt.date(2026, 4, 2), 4)]
    assert codes == ["2026Q1", "2025Q4", "2025Q3", "2025Q2"]
    assert Period.parse("2025Q4").next().code == "2026Q1"
