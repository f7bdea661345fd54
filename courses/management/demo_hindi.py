"""Hindi versions of demo questions (issue 18 item 5), from courses/demo/hindi.yaml.

Chapters or questions without complete entries stay English, so the demo shows the English fallback too.
"""

from __future__ import annotations

from courses.management.demo_content import HINDI


def hindi_fields(*, chapter: str, form: str, term: str, options_terms: list[str]) -> dict[str, str]:
    """Question.text_hi, option_a_hi..option_d_hi and explanation_hi for a demo question, or {} (English only).

    `form` is "term" (options are terms) or "statement" (options are "It <predicate>." about `term`);
    `options_terms` are the terms behind options A to D.
    """
    glossary = HINDI.get(chapter)
    if not glossary or term not in glossary or any(name not in glossary for name in options_terms):
        return {}
    term_hi, predicate_hi = glossary[term]
    if form == "term":
        text = f"निम्नलिखित में से कौन {predicate_hi}?"
        options = [glossary[name][0] for name in options_terms]
    else:
        text = f"{term_hi} के बारे में निम्नलिखित में से कौन-सा कथन सही है?"
        options = [f"यह {glossary[name][1]}।" for name in options_terms]
    others = [name for name in options_terms if name != term]
    explanation = f"{term_hi} {predicate_hi}। " + "; ".join(f"{glossary[n][0]} {glossary[n][1]}" for n in others) + "।"
    return {
        "text_hi": text,
        **{f"option_{letter}_hi": option for letter, option in zip("abcd", options, strict=True)},
        "explanation_hi": explanation,
    }
