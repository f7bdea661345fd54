"""Hindi versions of the demo's "Cell: The Unit of Life" questions (issue 18 item 5).

Terms as the NCERT Hindi-medium textbook (जीव विज्ञान, कक्षा 11, अध्याय 8 "कोशिका: जीवन की इकाई") writes
them; technical symbols (ATP, pH) stay in Latin letters, as there. Chapters without an entry stay English,
so the demo shows the English fallback too.
"""

from __future__ import annotations

# English term -> (Hindi term, Hindi predicate: completes "<term> ..." and "निम्नलिखित में से कौन ...?")
CELL_ORGANELLES_HI = {
    "Mitochondrion": ("सूत्रकणिका (माइटोकॉन्ड्रिया)", "वायवीय श्वसन का स्थल है जहाँ कोशिका का अधिकांश ATP बनता है"),
    "Golgi apparatus": (
        "गॉल्जी उपकरण",
        "पदार्थों का संवेष्टन करता है और ग्लाइकोप्रोटीन तथा ग्लाइकोलिपिड निर्माण का मुख्य स्थल है",
    ),
    "Lysosome": ("लयनकाय", "जल-अपघटनी एंजाइमों से युक्त है, जो अम्लीय pH पर सक्रिय होते हैं"),
    "Ribosome": ("राइबोसोम", "झिल्ली-रहित कोशिकांग है जहाँ प्रोटीन का संश्लेषण होता है"),
    "Rough endoplasmic reticulum": (
        "खुरदरी अंतःप्रद्रव्यी जालिका",
        "सतह पर राइबोसोम से युक्त है और प्रोटीन के स्रावण में सक्रिय है",
    ),
    "Centriole": ("तारककेंद्रक", "पक्ष्माभ तथा कशाभिका का आधारीय काय और जंतु कोशिकाओं में तर्कु बनाता है"),
}
GLOSSARY = {"Cell: The Unit of Life": CELL_ORGANELLES_HI}


def hindi_fields(*, chapter: str, form: str, term: str, options_terms: list[str]) -> dict[str, str]:
    """Question.text_hi, option_a_hi..option_d_hi and explanation_hi for a demo question, or {} (English only).

    `form` is "term" (options are terms) or "statement" (options are "It <predicate>." about `term`);
    `options_terms` are the terms behind options A to D.
    """
    glossary = GLOSSARY.get(chapter)
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
