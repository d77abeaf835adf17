"""Data types for instrument definitions (pure Python, no Django imports).

An instrument is data: its items, the answer values each item accepts, LOINC codes
where the clinical reference gives them, and its severity bands. The rules that
turn answers into a score live in kapcare.measures.scoring.

Every definition cites /work/shared/clinical/clinical-rules.md ("the reference"),
whose tags are V (verified), S (secondary) and R (recalled). Facts tagged S or R
are listed in `Instrument.provisional` so that the UI can label them.
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """One answer choice. `loinc` is the LOINC answer code (LA…), when sourced."""

    value: int
    text: str
    loinc: str = ""
    # Other LOINC answer codes that mean the same value (GAD-7 item 2, trap 3).
    also_loinc: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    """One question, answered with an integer from min_value to max_value.

    `label` is how error messages name the item ("item 3", "question 6").
    `text` is the English wording the reference gives; "" when it gives none.
    Unscored items (the PHQ-9 difficulty item) are validated but never summed.
    """

    number: int
    link_id: str
    label: str
    text: str
    min_value: int
    max_value: int
    options: tuple[Option, ...] = ()
    loinc: str = ""
    is_scored: bool = True
    is_optional: bool = False


def numbered_items(
    texts: Sequence[str],
    *,
    min_value: int,
    max_value: int,
    options: tuple[Option, ...] = (),
) -> tuple[Item, ...]:
    """Items 1..n answered on one shared scale, labelled "item N" in messages."""
    return tuple(
        Item(
            number=number,
            link_id=str(number),
            label=f"item {number}",
            text=text,
            min_value=min_value,
            max_value=max_value,
            options=options,
        )
        for number, text in enumerate(texts, start=1)
    )


@dataclass(frozen=True)
class Band:
    """A severity band: totals from `lower` up to the next band's lower bound."""

    lower: int
    label: str


@dataclass(frozen=True)
class Instrument:
    """A questionnaire or rating scale.

    `version` is the version of this definition in Kapcare (bump it when the
    definition changes); the reference gives no publisher version numbers.
    `total_range` is None for instruments without a total (C-SSRS screener).
    """

    code: str
    version: str
    name: str
    title: str
    items: tuple[Item, ...]
    total_range: tuple[int, int] | None
    bands: tuple[Band, ...] = ()
    loinc: str = ""
    total_loinc: str = ""
    is_clinician_rated: bool = False
    source: str = ""
    provisional: tuple[str, ...] = ()
    suicidality_item: int | None = None

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.is_scored)

    @property
    def band_ranges(self) -> tuple[tuple[int, int, str], ...]:
        """(lowest total, highest total, label) for each band, in order."""
        if self.total_range is None or not self.bands:
            return ()
        uppers = [band.lower - 1 for band in self.bands[1:]] + [self.total_range[1]]
        return tuple(
            (band.lower, upper, band.label)
            for band, upper in zip(self.bands, uppers, strict=True)
        )

    def band_for(self, total: float) -> str | None:
        """Return the label of the band whose lower bound is the highest <= total."""
        label = None
        for band in self.bands:
            if total >= band.lower:
                label = band.label
        return label


def frequency_options(
    labels: tuple[str, ...], loinc: tuple[str, ...] = ()
) -> tuple[Option, ...]:
    """Options valued 0, 1, 2… in the order given."""
    codes = loinc or ("",) * len(labels)
    return tuple(
        Option(value=value, text=text, loinc=code)
        for value, (text, code) in enumerate(zip(labels, codes, strict=True))
    )
