"""Chinese is complete and the compiled catalogues are the ones the sources say."""

import re
from pathlib import Path

import polib
import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sd]|\{\{ *\w+ *\}\}")


@pytest.fixture(scope="module", params=["zh_Hans", "en"])
def catalogue(request):
    return request.param, polib.pofile(str(LOCALE / request.param / "LC_MESSAGES" / "django.po"))


def test_chinese_has_every_text_translated():
    po = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in po.untranslated_entries() + po.fuzzy_entries()]
    assert missing == []


def test_translations_keep_every_placeholder(catalogue):
    _language, po = catalogue
    for entry in po.translated_entries():
        # A plural entry keeps its text in msgstr_plural (Chinese has one form).
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in texts:
            assert sorted(PLACEHOLDER.findall(entry.msgid)) == sorted(PLACEHOLDER.findall(text)), (
                entry.msgid
            )


def test_the_compiled_catalogue_matches_its_source(catalogue):
    language, po = catalogue
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))

    def text(entry):
        return entry.msgstr or entry.msgstr_plural.get(0, "")

    compiled = {(e.msgctxt, e.msgid): text(e) for e in mo if e.msgid}
    expected = {(e.msgctxt, e.msgid): text(e) for e in po.translated_entries()}
    assert compiled == expected


def test_django_finds_the_chinese_catalogue():
    with translation.override("zh-hans"):
        assert translation.gettext("Log in") == "登录"
    with translation.override("en"):
        assert translation.gettext("Log in") == "Log in"
