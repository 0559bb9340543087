"""Text on a page that addresses a language model or an automated reviewer (prompt injection).

Paperwork is written for people. A pay stub, a bank statement or a bill has no reason to tell an
"AI reviewer" that the applicant is pre-approved, to ask a model to ignore its instructions, or to
tell it which value to report. Such text is data, never instructions (``prompts.py`` says so to
the model), and finding it puts the document in front of a person (the ``ai_instructions`` rule).

The text is first brought to what a person would read: Unicode NFKC, invisible format characters
(zero-width spaces and joiners, soft hyphens) removed, and letters of other scripts that look like
Latin ones inside Latin words (Cyrillic "а", Greek "ο") mapped to the Latin letters they imitate,
using Unicode's confusables data (``confusable_homoglyphs``). Whitespace, line breaks and page
breaks collapse to one space, so a sentence split across lines or pages still reads as one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from confusable_homoglyphs import categories, confusables

# Zero-width and other invisible format characters (Unicode category Cf) are dropped.
_LATIN_WORD_PART = re.compile(r"[A-Za-z]")
_WORD = re.compile(r"\S+")


@lru_cache(maxsize=4096)
def _latin_look_alike(char: str) -> str:
    """The Latin letter that ``char`` (a letter of another script) imitates, or ``char``."""
    found = confusables.is_confusable(char, preferred_aliases=["latin"], greedy=True) or []
    for entry in found:
        for glyph in entry["homoglyphs"]:
            latin = glyph["c"]
            if len(latin) == 1 and latin.isascii() and latin.isalpha():
                return latin
    return char


def _unmask_word(word: str) -> tuple[str, bool]:
    """A word with look-alike letters of other scripts replaced; and whether it mixed scripts.

    Only letters that are not Latin are mapped, and only in words that also hold Latin letters
    or are made entirely of look-alikes, so a real Cyrillic or Greek word stays as it is.
    """
    if word.isascii():
        return word, False
    foreign = [c for c in word if c.isalpha() and not c.isascii()]
    if not foreign:
        return word, False
    scripts = {categories.alias(c) for c in foreign}
    if scripts <= {"LATIN"}:  # accented Latin letters (é, ñ): a real word
        return word, False
    mapped = "".join(_latin_look_alike(c) if c.isalpha() and not c.isascii() else c for c in word)
    has_latin = bool(_LATIN_WORD_PART.search(word))
    all_imitated = all(
        not (c.isalpha() and not c.isascii()) or _latin_look_alike(c) != c for c in word
    )
    if has_latin or all_imitated:
        return mapped, has_latin
    return word, False


@dataclass(frozen=True)
class ReadableText:
    """Text as a person reads it (lower case, one space between words)."""

    text: str
    mixed_script_words: tuple[str, ...]
    invisible_characters: int


def readable(text: str) -> ReadableText:
    text = unicodedata.normalize("NFKC", text or "")
    # Each distinct character is looked up once (a 20-page statement has 85,000 characters
    # and a few dozen distinct ones); ASCII has no format characters.
    hidden = {
        ord(c): None for c in set(text) if not c.isascii() and unicodedata.category(c) == "Cf"
    }
    invisible = sum(text.count(chr(code)) for code in hidden)
    text = text.translate(hidden) if hidden else text
    words, mixed = [], []
    for word in _WORD.findall(text):
        unmasked, was_mixed = _unmask_word(word)
        words.append(unmasked)
        if was_mixed:
            mixed.append(word)
    return ReadableText(" ".join(words).lower(), tuple(mixed), invisible)


# Ways of naming a model. Bare "assistant", "bot" or "model" are left out: a pay stub may well
# address an assistant manager, and a bill a car model.
_MODEL = (
    r"(?:ai|a\.i\.|artificial intelligence|llms?|large language models?|language models?|"
    r"chatbots?|chat ?gpt|gpt(?:-?\d)?|claude|gemini|copilot|ai assistants?|"
    r"virtual assistants?|automated (?:systems?|reviewers?|review|tools?|processing)|"
    r"machine readers?|extraction (?:systems?|models?|tools?|engines?)|"
    r"document (?:ai|models?)|ocr (?:systems?|engines?))"
)
# Each pattern is one way of addressing a model; the name says which, for the flag's message.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        (
            "addresses an AI",
            rf"\b(?:note|notes|message|memo|instructions?|attention|notice|reminder|hint)\s+"
            rf"(?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:\w+\s+){{0,2}}{_MODEL}\b",
        ),
        ("addresses an AI", rf"\b(?:dear|hey|hello|hi|attention:?)\s+(?:the\s+)?{_MODEL}\b"),
        (
            "addresses an AI",
            rf"\b(?:if|when|as)\s+(?:you\s+are|you're)\s+(?:an?\s+)?{_MODEL}\b",
        ),
        (
            "addresses an AI",
            rf"\b{_MODEL}\s+(?:reviewers?|readers?|agents?|systems?)?\s*(?:must|should|shall|"
            r"are instructed|is instructed|please)\b",
        ),
        (
            "tells the reader to ignore its instructions",
            r"\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:all\s+|any\s+)?(?:of\s+)?"
            r"(?:the\s+|your\s+|my\s+|these\s+|those\s+)?(?:previous\s+|prior\s+|above\s+|"
            r"earlier\s+|preceding\s+|original\s+|other\s+|system\s+)?(?:instructions|prompts?|"
            r"directions|guidelines|rules|context|messages|guardrails)\b",
        ),
        (
            "tells the reader to ignore its instructions",
            r"\b(?:ignore|disregard)\s+(?:everything|all)\s+(?:above|before|previous)\b",
        ),
        (
            "gives a model a role",
            rf"\b(?:you\s+are\s+(?:now\s+)?(?:an?\s+)?{_MODEL}|act\s+as\s+(?:an?\s+)?{_MODEL}|"
            r"system\s+prompt|developer\s+mode|jailbreak|new\s+instructions\s*:)",
        ),
        (
            "asks for a decision",
            r"\b(?:(?:applicant|application|borrower|loan|file|document)\s+(?:is|has\s+been)\s+"
            r"pre-?(?:approved|verified)|pre-?(?:approved|verified)\s+by\s+(?:the\s+)?(?:lender|"
            r"underwriter|bank|reviewer|underwriting)|auto-?approve[sd]?|(?:application|applicant|loan|"
            r"income|document|file)\s+(?:is|has)\s+already\s+(?:been\s+)?(?:approved|verified)|"
            r"approve\s+(?:this|the)\s+(?:application|applicant|loan|"
            r"request|document|file)|(?:application|applicant)\s+(?:is|has been)\s+approved|"
            r"mark\s+(?:this|all|every|each|the)\s+(?:\w+\s+){0,3}(?:as\s+)?(?:verified|"
            r"approved|valid|correct|genuine|authentic)|do\s+not\s+(?:flag|review|verify|question|"
            r"escalate)|(?:no|without)\s+(?:further\s+|additional\s+)?(?:review|"
            r"verification|checks?)\s+(?:is\s+|are\s+)?(?:needed|required|necessary))\b",
        ),
        (
            "tells the reader which value to report",
            r"\b(?:report|set|change|output|return|record|enter|use|extract|read|treat|list)\s+"
            r"(?:the\s+|this\s+|my\s+|their\s+)?(?:\w+\s+){0,3}(?:pay|income|salary|wages|"
            r"balance|total|amount|value|figure|earnings|ssn|name|employer)\s+(?:as|to\s+be|"
            r"to|=)\s+\$?\s?\d",
        ),
    )
)


def _squeezed(pattern: str) -> str:
    """The pattern for text whose spaces were lost or scattered (a PDF whose zero-width
    characters became word breaks reads "No te t o AI r ev ie we rs"): every space and word
    boundary dropped, and the optional in-between words too, since they could match anything."""
    for gap in (r"(?:\w+\s+){0,3}", r"(?:\w+\s+){0,2}"):
        pattern = pattern.replace(gap, "")
    for space in (r"\s+", r"\s*", r"\s?", r"\b", " ?", " "):
        pattern = pattern.replace(space, "")
    return pattern


SQUEEZED_PATTERNS = tuple((name, re.compile(_squeezed(p.pattern))) for name, p in PATTERNS)


@dataclass(frozen=True)
class InjectionSignal:
    """One finding: what kind of address it is and the words that showed it."""

    kind: str
    quote: str

    def __str__(self) -> str:
        return f"{self.kind}: “{self.quote}”"


def rendered_text(pages) -> str:
    """What the ``ai_addressed_text`` rule reads of rendered pages (``ingest.RenderedPage``):
    each page's text and the text in the file that it does not show (its ``hidden_text``
    note), as ``doc.text`` and ``doc.hidden_text`` hold them once stored."""
    return "\n".join(f"{page.text}\n{page.notes.get('hidden_text', '')}" for page in pages)


def injection_signals(text: str) -> list[InjectionSignal]:
    """Every way ``text`` addresses a model or an automated reviewer; empty for ordinary
    paperwork. ``text`` is all the words of a document (every page, text layer or OCR)."""
    seen = readable(text)
    found: list[InjectionSignal] = []
    quotes: set[str] = set()
    squeezed = re.sub(r"\s+", "", seen.text)
    for text, patterns in ((seen.text, PATTERNS), (squeezed, SQUEEZED_PATTERNS)):
        for kind, pattern in patterns:
            for match in pattern.finditer(text):
                quote = match.group(0).strip()
                if re.sub(r"\s+", "", quote) not in quotes:
                    quotes.add(re.sub(r"\s+", "", quote))
                    found.append(InjectionSignal(kind, quote[:120]))
    if found and seen.mixed_script_words:
        found.append(
            InjectionSignal(
                "disguised with look-alike letters of another script",
                " ".join(seen.mixed_script_words[:5])[:120],
            )
        )
    return found
