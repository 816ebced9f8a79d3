"""How personal data is shown to people who may not see all of it (linli.lib.masking)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.lib import masking


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("11010519491231002X", "110105********002X"),  # first 6 (region) + last 4 (sequence, check)
        ("H12345678", "*********"),  # 10 characters or fewer: nothing shown
        ("", ""),
        (None, ""),
    ],
)
def test_id_number_keeps_region_and_last_four(number, shown):
    assert masking.mask_id_number(number) == shown


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812341234", "138****1234"),  # mobile: 3 + 4
        ("02788886666", "027****6666"),  # any 11 digits look the same
        ("88886666", "****6666"),  # other numbers: last 4 only
        ("027-8888666", "*******8666"),
        ("1234", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_phone(phone, shown):
    assert masking.mask_phone(phone) == shown


@pytest.mark.parametrize(
    ("name", "shown"), [("张三", "张*"), ("欧阳娜娜", "欧***"), ("张", "张*"), ("", ""), (None, "")]
)
def test_name_keeps_the_family_name_only(name, shown):
    assert masking.mask_name(name) == shown


@given(st.text(alphabet="0123456789X", min_size=11, max_size=30))
def test_masked_id_keeps_length_and_hides_all_but_ten(number):
    masked = masking.mask_id_number(number)
    assert len(masked) == len(number)
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert set(masked[6:-4]) == {"*"}


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_masked_phone_keeps_length_and_shows_at_most_seven_digits(phone):
    masked = masking.mask_phone(phone)
    assert len(masked) == len(phone)
    shown = sum(c != "*" for c in masked)
    assert shown == (7 if len(phone) == 11 else 0 if len(phone) <= 4 else 4)
    # Whatever is shown is the number's own digits in place.
    assert all(m in ("*", p) for m, p in zip(masked, phone, strict=True))
