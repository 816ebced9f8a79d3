"""A minimal iCalendar (RFC 5545) writer for a member's shifts: no dependency, only what we need.

Text values are escaped (backslash, semicolon, comma, newline: §3.3.11), content lines are
folded at 75 octets without splitting a UTF-8 character (§3.1), lines end with CRLF, and times
are written in UTC ("Z" form, §3.3.5), so no VTIMEZONE is needed.
"""

import datetime as dt
from dataclasses import dataclass

PRODID = "-//Linli//Community activities//ZH"


@dataclass(frozen=True)
class Event:
    uid: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    location: str = ""
    description: str = ""
    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE or CANCELLED
    url: str = ""
    stamp: dt.datetime | None = None
    sequence: int = 0


def escape_text(value: str) -> str:
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, continuation lines starting with a space."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    pieces, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        # Never cut inside a UTF-8 sequence: back up to a character boundary.
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
        limit = 74  # the leading space of a continuation line counts
    return "\r\n ".join(pieces)


def calendar(events, *, name: str, now: dt.datetime, refresh_hours: int = 1) -> str:
    """The VCALENDAR text of `events`, CRLF line endings."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:PT{int(refresh_hours)}H",
        f"X-PUBLISHED-TTL:PT{int(refresh_hours)}H",
    ]
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(e.uid)}",
            f"DTSTAMP:{utc(e.stamp or now)}",
            f"DTSTART:{utc(e.start)}",
            f"DTEND:{utc(e.end)}",
            f"SUMMARY:{escape_text(e.summary)}",
        ]
        if e.location:
            lines.append(f"LOCATION:{escape_text(e.location)}")
        if e.description:
            lines.append(f"DESCRIPTION:{escape_text(e.description)}")
        if e.url:
            lines.append(f"URL:{e.url}")
        lines += [f"STATUS:{e.status}", f"SEQUENCE:{int(e.sequence)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
