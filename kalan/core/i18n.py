"""Language fallbacks: an untranslated string in Bambara shows in French, in
Tajik in Russian (settings.KALAN_LANGUAGE_FALLBACKS), before English.

Django only ever falls back to LANGUAGE_CODE, so the translation lookup is
wrapped once at start-up to put the configured language in between.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.translation import trans_real as _trans_real

# Django's translation internals are untyped in django-stubs; reached through Any.
trans_real: Any = _trans_real


def check_fallbacks(fallbacks: dict[str, str]) -> None:
    """Refuse chains and cycles: a fallback language has no fallback of its own."""
    for language, fallback in fallbacks.items():
        if fallback in fallbacks or fallback == language:
            raise ImproperlyConfigured(
                f"KALAN_LANGUAGE_FALLBACKS: {language} -> {fallback} must end in a "
                "language without a fallback of its own."
            )


def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting == "KALAN_LANGUAGE_FALLBACKS":
        trans_real._translations = {}
        trans_real._default = None
        trans_real._active = trans_real.Local()


def install_language_fallbacks() -> None:
    """Wrap Django's translation lookup once (idempotent)."""
    check_fallbacks(settings.KALAN_LANGUAGE_FALLBACKS)
    if getattr(trans_real.translation, "kalan_fallbacks", False):
        return
    original = trans_real.translation

    def translation(language: str) -> Any:
        result: Any = original(language)
        if not getattr(result, "kalan_fallback_set", False):
            result.kalan_fallback_set = True
            fallback = settings.KALAN_LANGUAGE_FALLBACKS.get(language)
            if fallback:
                # The fallback's own chain ends in LANGUAGE_CODE, as Django's does.
                result._fallback = None
                result.add_fallback(translation(fallback))
        return result

    translation.kalan_fallbacks = True  # type: ignore[attr-defined]
    trans_real.translation = translation
    setting_changed.connect(_reset, dispatch_uid="kalan-language-fallbacks")
