"""English is available for every string: the catalogue is complete and compiled.

Chinese is the source language (msgids); locale/en holds the English. A string added to the code
without its English, a fuzzy guess left by makemessages, or a .po edited without recompiling the
.mo shows up here rather than as Chinese text on an English page.
"""

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES"


@pytest.fixture(scope="module")
def po():
    return polib.pofile(str(LOCALE / "django.po"))


def _key(entry) -> str:
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid


def test_every_string_has_its_english(po):
    missing = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not missing, f"{len(missing)} strings without English, e.g. {missing[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy translations to check, e.g. {fuzzy[:5]}"


def test_placeholders_survive_translation(po):
    """A translation keeps the msgid's %(name)s / {name} placeholders (else formatting fails)."""
    import re

    pattern = re.compile(r"%\(\w+\)[sdif]|\{\w*\}")
    broken = []
    for e in po.translated_entries():
        if e.msgid_plural:
            continue
        if sorted(pattern.findall(e.msgid)) != sorted(pattern.findall(e.msgstr)):
            broken.append((e.msgid, e.msgstr))
    assert not broken, broken[:5]


def test_compiled_catalogue_matches_the_po(po):
    mo = polib.mofile(str(LOCALE / "django.mo"))
    compiled = {_key(e): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo}
    stale = [
        e.msgid
        for e in po.translated_entries()
        if compiled.get(_key(e)) != (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
    ]
    assert not stale, f"{len(stale)} strings differ from django.mo (run make messages), e.g. {stale[:5]}"
