"""Resident ID numbers (GB 11643-1999): checksum, dates, normalisation (linli.lib.idcard)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.lib import idcard

# The two worked examples of GB 11643-1999 (one ends in X) and one ordinary number.
VALID = ["11010519491231002X", "440524188001010014", "110101199003074477"]

regions = st.from_regex(r"[1-9]\d{5}", fullmatch=True)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))
sequences = st.integers(min_value=0, max_value=10**6)


@pytest.mark.parametrize("number", VALID)
def test_known_numbers_validate(number):
    assert idcard.validate(number) == number
    assert idcard.is_valid(number)


def test_facts_carried_by_the_number():
    assert idcard.birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert idcard.gender("11010519491231002X") == "F"  # sequence digit 2: even
    assert idcard.gender("440524188001010014") == "M"  # sequence digit 1: odd
    assert idcard.check_char("11010519491231002") == "X"


@pytest.mark.parametrize("text", ["11010519491231002x", " 11010519491231002X ", "110105 19491231 002x"])
def test_lowercase_x_and_spaces_are_normalised(text):
    assert idcard.validate(text) == "11010519491231002X"


def test_wrong_check_character_is_refused():
    with pytest.raises(idcard.InvalidIdNumber, match="校验位"):
        idcard.validate("110105194912310021")
    with pytest.raises(idcard.InvalidIdNumber, match="校验位"):
        idcard.validate("440524188001010015")


@pytest.mark.parametrize("first17", ["11010519490230002", "11010519491301002", "11010519490000002"])
def test_impossible_birth_date_is_refused_even_with_a_right_check(first17):
    # 30 February, month 13, day 0 — with the check character computed, so only the date is wrong.
    with pytest.raises(idcard.InvalidIdNumber, match="出生日期"):
        idcard.validate(first17 + idcard.check_char(first17))


@pytest.mark.parametrize("text", ["", None, "11010519491231002", "11010519491231002X0", "1101051949123"])
def test_wrong_length_is_refused_and_says_so(text):
    with pytest.raises(idcard.InvalidIdNumber, match="18位"):
        idcard.validate(text)


@pytest.mark.parametrize("text", ["1101051949123100XX", "A1010519491231002X", "11010519491231002Y"])
def test_letters_other_than_a_final_x_are_refused(text):
    with pytest.raises(idcard.InvalidIdNumber, match="前17位须为数字"):
        idcard.validate(text)


@given(regions, births, sequences)
def test_make_always_validates(region, born, sequence):
    number = idcard.make(region, born, sequence)
    assert idcard.validate(number) == number
    assert idcard.birth_date(number) == born
    assert idcard.gender(number) == ("M" if (sequence % 1000) % 2 else "F")


@given(regions, births, sequences, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_is_caught(region, born, sequence, position, shift):
    # MOD 11-2 detects every single substitution: the number either fails its check or its date.
    number = idcard.make(region, born, sequence)
    changed_digit = str((int(number[position]) + shift) % 10)
    changed = number[:position] + changed_digit + number[position + 1 :]
    assert not idcard.is_valid(changed)
