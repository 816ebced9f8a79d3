"""People for the demo town: names, ID numbers, phones and the make-up of households.

Pure generation from a seeded random generator; nothing here touches the database.
"""

import dataclasses
import datetime as dt
import itertools
import random

from linli.demo import names as N
from linli.lib import idcard
from linli.people.models import CareTag

REFERENCE_DATE = dt.date(2026, 1, 1)  # ages are counted from here, so a person never changes


@dataclasses.dataclass
class Person:
    name: str
    gender: str
    birth_date: dt.date
    id_number: str
    phone: str


class People:
    """Names, ID numbers and phones: unique, plausible, drawn from one generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._surnames = list(N.SURNAMES)
        self._surname_cum = list(itertools.accumulate(N.SURNAMES.values()))
        self._regions = list(N.ID_REGIONS)
        self._region_cum = list(itertools.accumulate(N.ID_REGIONS.values()))
        self._ids: set[str] = set()
        self._phones: set[str] = set()

    def fork(self, rng: random.Random) -> "People":
        """Another generator drawing from `rng` but sharing the register of ID numbers and phones."""
        other = People(rng)
        other._ids, other._phones = self._ids, self._phones
        return other

    def surname(self) -> str:
        return self.rng.choices(self._surnames, cum_weights=self._surname_cum)[0]

    def given_name(self, gender: str, birth_year: int) -> str:
        era = "old" if birth_year < 1960 else "mid" if birth_year < 1986 else "young"
        chars = N.GIVEN_CHARS[(era, gender)]
        rng = self.rng
        if rng.random() < N.SINGLE_CHAR_SHARE[era]:
            return rng.choice(chars)
        first = rng.choice(chars)
        # Doubled names (婷婷, 晨晨) are a young-generation habit; otherwise two different characters.
        if era == "young" and rng.random() < 0.05:
            return first * 2
        second = rng.choice(chars)
        while second == first:
            second = rng.choice(chars)
        return first + second

    def birth_date(self, age: int) -> dt.date:
        return dt.date.fromordinal(REFERENCE_DATE.toordinal() - age * 365 - self.rng.randrange(365) - 1)

    def id_number(self, gender: str, born: dt.date, region: str | None = None) -> str:
        rng = self.rng
        region = region or rng.choices(self._regions, cum_weights=self._region_cum)[0]
        while True:
            # The sequence's last digit carries the gender: odd for men, even for women.
            number = idcard.make(region, born, rng.randrange(500) * 2 + (gender == "M"))
            if number not in self._ids:
                self._ids.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = self.rng.choice(N.PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def name(self, gender: str, age: int) -> str:
        return self.surname() + self.given_name(gender, REFERENCE_DATE.year - age)

    def person(self, gender: str, age: int, *, surname: str | None = None, phone: bool = True) -> Person:
        born = self.birth_date(age)
        return Person(
            name=(surname or self.surname()) + self.given_name(gender, born.year),
            gender=gender,
            birth_date=born,
            id_number=self.id_number(gender, born),
            phone=self.phone() if phone else "",
        )


def years_old(born: dt.date) -> int:
    return (REFERENCE_DATE - born).days // 365


def party_share(age: int, gender: str) -> float:
    share = 0.04 if age < 36 else 0.08 if age < 60 else 0.10
    return share * (1.25 if gender == "M" else 0.75)


def household_people(rng: random.Random, size: int, rural: bool) -> list[tuple[str, str, int, list[str]]]:
    """The people of one household: (relation to the head, gender, age, care tags)."""
    randint, random_ = rng.randint, rng.random

    def couple(lo, hi):
        age = randint(lo, hi)
        male = random_() < 0.8
        spouse_age = max(20, age + randint(-6, 3) if male else age + randint(-2, 6))
        return [("户主", "M" if male else "F", age, []), ("妻" if male else "夫", "F" if male else "M", spouse_age, [])]

    def child(parent_age, relation_m="子", relation_f="女"):
        gender = "M" if random_() < 0.52 else "F"
        age = max(0, parent_age - randint(23, 33))
        return (relation_m if gender == "M" else relation_f, gender, age, [])

    def left_behind(grandparent_age):
        gender = "M" if random_() < 0.52 else "F"
        age = randint(3, min(15, max(3, grandparent_age - 45)))
        return ("孙子" if gender == "M" else "孙女", gender, age, [CareTag.LEFT_BEHIND_CHILD])

    if size == 1:
        if random_() < 0.45:
            age = randint(60, 94)
            return [("户主", "F" if random_() < 0.6 else "M", age, [CareTag.ELDERLY_ALONE])]
        return [("户主", "M" if random_() < 0.55 else "F", randint(22, 59), [])]
    if size == 2:
        r = random_()
        if rural and r < 0.1:
            head = randint(58, 76)
            return [("户主", "F" if random_() < 0.5 else "M", head, []), left_behind(head)]
        if r < 0.6:
            return couple(24, 88)
        if r < 0.8:
            head_age = randint(38, 60)
            return [("户主", "F" if random_() < 0.6 else "M", head_age, []), child(head_age)]
        head_age = randint(35, 60)
        parent_gender = "F" if random_() < 0.65 else "M"
        return [
            ("户主", "M" if random_() < 0.6 else "F", head_age, []),
            ("母" if parent_gender == "F" else "父", parent_gender, min(98, head_age + randint(24, 34)), []),
        ]
    if rural and size in (3, 4) and random_() < 0.15:
        people = couple(56, 74)
        return people + [left_behind(people[0][2]) for _ in range(size - 2)]
    if size == 3:
        people = couple(26, 62)
        return [*people, child(people[0][2])]
    if size == 4:
        people = couple(30, 55)
        if random_() < 0.6:
            return [*people, child(people[0][2]), child(people[0][2])]
        parent_gender = "F" if random_() < 0.65 else "M"
        parent = ("母" if parent_gender == "F" else "父", parent_gender, min(98, people[0][2] + randint(24, 32)), [])
        return [*people, child(people[0][2]), parent]
    # Three generations: an older couple, their son and his wife, grandchildren.
    people = couple(52, 78)
    son_age = max(22, people[0][2] - randint(23, 30))
    people += [("子", "M", son_age, []), ("儿媳", "F", max(21, son_age + randint(-4, 2)), [])]
    for _ in range(size - 4):
        people.append(child(son_age, "孙子", "孙女"))
    return people


def credit_code(rng: random.Random, region: str = "420200") -> str:
    """A well-formed 统一社会信用代码 (GB 32100-2015) for a company registered in Huangshi."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "".join(str(rng.randrange(10)) for _ in range(8))
    # Organisation code check digit (GB 11714).
    c9 = 11 - sum(int(d) * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    org = body + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))
    first17 = "91" + region + org
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(alphabet.index(ch) * w for ch, w in zip(first17, weights, strict=True))
    return first17 + alphabet[(31 - total % 31) % 31]
