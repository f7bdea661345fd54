"""Hindi versions of questions (issue 18 item 5): the fields, the review rule, and the medium choice.

A question may carry Hindi text, options and explanation (Question.HINDI_FIELDS). English prevails
wherever a Hindi field is blank, field by field (docs/hindi.md).

The "Hindi needs review" rule (`hindi_needs_review`), applied to all of a question's Hindi fields together:
- characters that are not letters (digits of any script, punctuation, symbols, spaces, joiners) never count;
- a letter or combining mark is Devanagari when it is in U+0900–U+097F (the Devanagari block);
- Latin letters A–Z/a–z and Greek letters (U+0370–U+03FF) are technical terms ("DNA", "ATP", "β-कैरोटीन")
  and are allowed in moderation: at most HINDI_FOREIGN_SHARE (40 %) of the letters;
- any other letter (Bengali, Gurmukhi, Urdu, Cyrillic, accented Latin, ...) flags the question;
- Hindi text with no Devanagari letter at all is flagged (English pasted into a Hindi field).
A flagged question is still saved and shown as entered: the flag is for staff, in the admin's list.
"""

from __future__ import annotations

import unicodedata

MEDIUMS = ("en", "hi")
DEVANAGARI = range(0x0900, 0x0980)
GREEK = range(0x0370, 0x0400)
HINDI_FOREIGN_SHARE = 0.4


def _is_technical(char: str) -> bool:
    return ("A" <= char <= "Z") or ("a" <= char <= "z") or ord(char) in GREEK


def hindi_needs_review(*texts: str) -> bool:
    """True when the Hindi texts break the rule above (all empty: False, there is nothing to review)."""
    devanagari = technical = 0
    for text in texts:
        for char in text or "":
            if not unicodedata.category(char).startswith(("L", "M")):
                continue
            if ord(char) in DEVANAGARI:
                devanagari += 1
            elif _is_technical(char):
                technical += 1
            else:
                return True
    letters = devanagari + technical
    if letters == 0:
        return False
    return devanagari == 0 or technical / letters > HINDI_FOREIGN_SHARE


def question_hindi(question) -> dict | None:
    """The paper's Hindi part of one question: {"text", "options"} with "" where English prevails; None if none."""
    options = {
        "A": question.option_a_hi,
        "B": question.option_b_hi,
        "C": question.option_c_hi,
        "D": question.option_d_hi,
    }
    if not question.text_hi and not any(options.values()):
        return None
    return {"text": question.text_hi, "options": options}


def in_medium(question: dict, medium: str) -> tuple[str, dict[str, str]]:
    """(text, options) of a paper question in the medium, English where the Hindi field is blank."""
    hindi = question.get("hi") if medium == "hi" else None
    if not hindi:
        return question["text"], question["options"]
    options = {letter: hindi["options"].get(letter) or text for letter, text in question["options"].items()}
    return hindi["text"] or question["text"], options


def medium_or_default(value: str | None) -> str:
    return value if value in MEDIUMS else "en"
