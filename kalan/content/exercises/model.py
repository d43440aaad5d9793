"""What an exercise is once it has been read: frozen dataclasses, one per item type.

Every text field that a learner sees holds accepted item text (see `markup.py`),
except where a field says "plain text". Numbers are Decimals, so a tolerance of
0.1 around 0.3 accepts 0.2 and 0.4 exactly.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar


class ItemType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    NUMERIC = "numeric"
    SHORT_TEXT = "short_text"
    ORDERING = "ordering"
    MATCHING = "matching"
    FILL_BLANKS = "fill_blanks"
    FREE_RESPONSE = "free_response"


class MediaKind(StrEnum):
    IMAGE = "image"
    AUDIO = "audio"


IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
AUDIO_EXTENSIONS = frozenset({".mp3", ".ogg", ".oga", ".opus", ".m4a", ".wav"})


@dataclass(frozen=True)
class Media:
    """A picture or a sound, by its path relative to the exercise file's folder.

    `alt` is plain text: what the picture shows (required for images) or what
    the sound says.
    """

    kind: MediaKind
    src: str
    alt: str = ""


@dataclass(frozen=True)
class Feedback:
    correct: str = ""
    incorrect: str = ""


@dataclass(frozen=True)
class Choice:
    """A choice, an ordering step, or one side of a matching pair."""

    id: str
    text: str = ""
    media: tuple[Media, ...] = ()
    feedback: str = ""


@dataclass(frozen=True)
class NumericAnswer:
    """An accepted number: `value` within a tolerance, or the range `minimum`..`maximum`.

    The tolerance is the larger of `tolerance` (absolute) and `tolerance_percent`
    of the value's size.
    """

    value: Decimal | None = None
    tolerance: Decimal = Decimal(0)
    tolerance_percent: Decimal = Decimal(0)
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def bounds(self) -> tuple[Decimal, Decimal]:
        """The smallest and the largest number accepted (both included)."""
        if self.value is None:
            assert self.minimum is not None
            assert self.maximum is not None
            return self.minimum, self.maximum
        spread = max(self.tolerance, abs(self.value) * self.tolerance_percent / 100)
        return self.value - spread, self.value + spread


@dataclass(frozen=True, kw_only=True)
class ItemBase:
    """What every item has: an id unique in its exercise, a prompt, hints and feedback."""

    type: ClassVar[ItemType]
    id: str
    prompt: str
    language: str = ""
    media: tuple[Media, ...] = ()
    hints: tuple[str, ...] = ()
    feedback: Feedback = field(default_factory=Feedback)


@dataclass(frozen=True, kw_only=True)
class SingleChoiceItem(ItemBase):
    type: ClassVar[ItemType] = ItemType.SINGLE_CHOICE
    choices: tuple[Choice, ...]
    correct: str
    shuffle_choices: bool = True


@dataclass(frozen=True, kw_only=True)
class MultipleChoiceItem(ItemBase):
    type: ClassVar[ItemType] = ItemType.MULTIPLE_CHOICE
    choices: tuple[Choice, ...]
    correct: frozenset[str]
    partial_credit: bool = False
    shuffle_choices: bool = True


@dataclass(frozen=True, kw_only=True)
class TrueFalseItem(ItemBase):
    type: ClassVar[ItemType] = ItemType.TRUE_FALSE
    correct: bool


@dataclass(frozen=True, kw_only=True)
class NumericItem(ItemBase):
    """`unit` is plain text shown after the answer field; it is not graded."""

    type: ClassVar[ItemType] = ItemType.NUMERIC
    answers: tuple[NumericAnswer, ...]
    unit: str = ""


@dataclass(frozen=True, kw_only=True)
class ShortTextItem(ItemBase):
    """`answers` are plain text; any one of them is right."""

    type: ClassVar[ItemType] = ItemType.SHORT_TEXT
    answers: tuple[str, ...]
    case_sensitive: bool = False
    ignore_diacritics: bool = False


@dataclass(frozen=True, kw_only=True)
class OrderingItem(ItemBase):
    """`steps` in the right order; learners always see them in another order."""

    type: ClassVar[ItemType] = ItemType.ORDERING
    steps: tuple[Choice, ...]
    partial_credit: bool = False


@dataclass(frozen=True, kw_only=True)
class MatchingItem(ItemBase):
    """`pairs` of (source id, target id). A source has at most one target; a target may
    take several sources; a source in no pair is a distractor left unmatched."""

    type: ClassVar[ItemType] = ItemType.MATCHING
    sources: tuple[Choice, ...]
    targets: tuple[Choice, ...]
    pairs: tuple[tuple[str, str], ...]
    partial_credit: bool = True
    shuffle_choices: bool = True


@dataclass(frozen=True)
class TextBlank:
    """A blank filled with words; `answers` are plain text."""

    id: str
    answers: tuple[str, ...]
    case_sensitive: bool = False
    ignore_diacritics: bool = False


@dataclass(frozen=True)
class NumericBlank:
    id: str
    answers: tuple[NumericAnswer, ...]


@dataclass(frozen=True)
class ChoiceBlank:
    """A blank filled by picking one of `choices` (their text is plain text)."""

    id: str
    choices: tuple[Choice, ...]
    correct: str


Blank = TextBlank | NumericBlank | ChoiceBlank


@dataclass(frozen=True, kw_only=True)
class FillBlanksItem(ItemBase):
    """The prompt holds each blank once, as `{{id}}`, outside MathML."""

    type: ClassVar[ItemType] = ItemType.FILL_BLANKS
    blanks: tuple[Blank, ...]


@dataclass(frozen=True, kw_only=True)
class FreeResponseItem(ItemBase):
    """Graded later by a teacher; `guidance` (item text) is shown to the teacher only."""

    type: ClassVar[ItemType] = ItemType.FREE_RESPONSE
    guidance: str = ""


Item = (
    SingleChoiceItem
    | MultipleChoiceItem
    | TrueFalseItem
    | NumericItem
    | ShortTextItem
    | OrderingItem
    | MatchingItem
    | FillBlanksItem
    | FreeResponseItem
)


class MasteryModel(StrEnum):
    M_OF_N = "m_of_n"
    N_IN_A_ROW = "n_in_a_row"
    PERCENTAGE = "percentage"


@dataclass(frozen=True)
class MOfN:
    """Mastered once `m` of the last `n` answers are right."""

    model: ClassVar[MasteryModel] = MasteryModel.M_OF_N
    m: int = 4
    n: int = 5


@dataclass(frozen=True)
class NInARow:
    """Mastered once `n` answers in a row are right."""

    model: ClassVar[MasteryModel] = MasteryModel.N_IN_A_ROW
    n: int = 3


@dataclass(frozen=True)
class Percentage:
    """Mastered once at least `minimum` answers were given and `percent` % of all are right."""

    model: ClassVar[MasteryModel] = MasteryModel.PERCENTAGE
    percent: int = 80
    minimum: int = 10


MasteryRule = MOfN | NInARow | Percentage


@dataclass(frozen=True)
class Exercise:
    """A titled set of items (at least one, ids unique) and the rule for mastering it.

    `title` and `description` are plain text.
    """

    title: str
    items: tuple[Item, ...]
    description: str = ""
    language: str = ""
    mastery: MasteryRule = field(default_factory=MOfN)
    shuffle_items: bool = True

    def item(self, item_id: str) -> Item:
        """The item called `item_id`; raises KeyError when there is none."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)
