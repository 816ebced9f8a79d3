"""Chinese resident ID numbers (GB 11643-1999): validation and the facts they carry."""

import datetime as dt
import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_PATTERN = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(ValueError):
    """The text is not a valid 18-digit ID number; the message says why, in Chinese."""


def check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize(text: str) -> str:
    return (text or "").strip().upper().replace(" ", "")


def validate(text: str) -> str:
    """Return the normalised ID number or raise InvalidIdNumber naming the defect."""
    number = normalize(text)
    if len(number) != 18:
        raise InvalidIdNumber(f"身份证号应为18位，实际为{len(number)}位")
    if not _PATTERN.match(number):
        raise InvalidIdNumber("身份证号前17位须为数字，末位为数字或X")
    try:
        birth_date(number)
    except ValueError:
        raise InvalidIdNumber("身份证号中的出生日期无效") from None
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("身份证号校验位不正确")
    return number


def is_valid(text: str) -> bool:
    try:
        validate(text)
    except InvalidIdNumber:
        return False
    return True


def birth_date(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender(number: str) -> str:
    """'M' or 'F' from the sequence digit (odd = male)."""
    return "M" if int(number[16]) % 2 else "F"


def make(region: str, born: dt.date, sequence: int) -> str:
    """Build a valid ID number (used by the demo town and tests)."""
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)
