"""Give every catalogue a proper header (language, plural rule), after makemessages.

gettext does not know Bambara's plural rule and leaves placeholders; Bambara
nouns do not change for number, so it has a single form.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLURALS = {
    "en": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
    "tg": "nplurals=2; plural=(n != 1);",
    "bm": "nplurals=1; plural=0;",
}


def fix(po: Path) -> None:
    language = po.parent.parent.name
    text = po.read_text(encoding="utf-8")
    if language in PLURALS:  # Russian keeps the rule gettext writes for it
        text = re.sub(
            r'"Plural-Forms: [^"]*\\n"', f'"Plural-Forms: {PLURALS[language]}\\\\n"', text
        )
    text = re.sub(r'"Language: [^"]*\\n"', f'"Language: {language}\\\\n"', text)
    text = text.replace(
        '"Project-Id-Version: PACKAGE VERSION\\n"', '"Project-Id-Version: Kalan\\n"'
    )
    text = re.sub(r"\A(#.*\n)*#, fuzzy\n", "# Kalan interface catalogue.\n", text)
    po.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    for path in sorted(ROOT.glob("kalan/locale/*/LC_MESSAGES/django.po")):
        fix(path)
