"""Languages: Bambara falls back to French and Tajik to Russian before English."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.utils import translation
from django.utils.translation import gettext

from kalan.core.i18n import check_fallbacks

# Django ships this string in French and Russian but not in Bambara.
REQUIRED = "This field is required."


def in_language(language: str, message: str) -> str:
    with translation.override(language):
        return gettext(message)


def test_bambara_falls_back_to_french():
    french = in_language("fr", REQUIRED)
    assert french != REQUIRED
    assert in_language("bm", REQUIRED) == french


def test_tajik_falls_back_to_russian_where_it_has_no_translation():
    russian_only = "Enter a valid URL."
    russian = in_language("ru", russian_only)
    assert russian != russian_only
    tajik = in_language("tg", russian_only)
    assert tajik != russian_only  # either Tajik's own or the Russian one, never English


@override_settings(KALAN_LANGUAGE_FALLBACKS={})
def test_fallbacks_are_configurable():
    assert in_language("bm", REQUIRED) == REQUIRED


@override_settings(KALAN_LANGUAGE_FALLBACKS={"bm": "ru"})
def test_fallback_to_another_language():
    assert in_language("bm", REQUIRED) == in_language("ru", REQUIRED)


def test_chains_and_cycles_are_refused():
    with pytest.raises(ImproperlyConfigured):
        check_fallbacks({"bm": "fr", "fr": "bm"})
    with pytest.raises(ImproperlyConfigured):
        check_fallbacks({"bm": "bm"})
    check_fallbacks({"bm": "fr", "tg": "ru"})


def test_dates_and_numbers_are_localized():
    import datetime

    from django.utils.formats import date_format, number_format

    day = datetime.date(2026, 3, 9)
    with translation.override("fr"):
        assert date_format(day) == "9 mars 2026"
        assert number_format(1234.5, decimal_pos=1, force_grouping=True) == "1\xa0234,5"
    with translation.override("bm"):  # Kalan's own formats; month names fall back to French
        assert number_format(1234.5, decimal_pos=1, force_grouping=True) == "1\xa0234,5"
        assert date_format(day) == "9 mars 2026"
        assert date_format(day, "SHORT_DATE_FORMAT") == "09/03/2026"
    with translation.override("ru"):
        assert date_format(day) == "9 марта 2026 г."
