"""The NTA exam screen: one page shell per paper version, and each learner's values put into it.

Kept apart from courses/views.py so the views stay thin. What every learner of a paper version sees alike
(the template's markup and words, the paper as attempt.js reads it, the screen's messages) is rendered once
per process (`exam_shell`); per request only the learner's part is built (`screen_values`, pure: no I/O):
the current question, palette states, section and legend counts, the timer and the small state JSON.
Issue 15's storm (10,000 learners opening one live mock) pays the template once, not 10,000 times
(docs/exam.md, "Cost").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import zip_longest

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape, json_script
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from courses import caches, selectors
from courses.hindi import in_medium, medium_or_default

# English here; shown in the request's language through state_labels() (locale/hi, docs/hindi.md).
STATE_LABELS = {
    "not_visited": "Not visited",
    "not_answered": "Not answered",
    "answered": "Answered",
    "marked_for_review": "Marked for review",
    "answered_and_marked": "Answered and marked for review (will be scored)",
}


def state_labels() -> dict[str, str]:
    """STATE_LABELS in the active interface language (gettext: a dict lookup each)."""
    return {code: gettext(label) for code, label in STATE_LABELS.items()}


def screen_messages() -> dict[str, str | list[str]]:
    """attempt.js's words in the active interface language, sent in the page's exam JSON (no catalog
    request, no CDN). `%(name)s` is filled in by the script; a list is [one, other] for a count."""

    def counted(singular: str, plural: str) -> list[str]:
        return [ngettext(singular, plural, 1), ngettext(singular, plural, 2)]

    return {
        "saving": gettext("Saving…"),
        "saved": gettext("Saved"),
        "saved_here": gettext("Saved on this device; not sent yet."),
        "saved_last": gettext("Saved. This was the last question: check the palette, then submit."),
        "cleared": gettext("Response cleared"),
        "waiting": counted("%(n)s answer waits on this device", "%(n)s answers wait on this device"),
        "offline": gettext("You are offline. %(waiting)s and will be sent when the connection returns."),
        "connection_lost": gettext("Connection lost. %(waiting)s and will be sent when it returns."),
        "busy": gettext("The server is busy. %(waiting)s and will be sent shortly."),
        "closed": gettext("This test is closed."),
        "not_sent": gettext("%(reason)s Answers not sent: %(n)s."),
        "stale_page": gettext(
            "This page is out of date or your session has ended. Reload the page (sign in again if asked): "
            "your answers wait on this device."
        ),
        "refused": gettext("the server refused these answers"),
        "not_saved": gettext("Not saved: %(reason)s Please answer again."),
        "pending": counted(
            "%(n)s answer has not reached the server yet. Stay connected: they are sent first.",
            "%(n)s answers have not reached the server yet. Stay connected: they are sent first.",
        ),
        "submit_offline": gettext("%(waiting)s. Connect to the internet, then submit again."),
        "minutes_left": counted(
            "%(n)s minute left. Your saved answers will be submitted when the time is up.",
            "%(n)s minutes left. Your saved answers will be submitted when the time is up.",
        ),
        "time_up": gettext("Time is up. Submitting your answers…"),
        "question": gettext("Question %(n)s"),
        "palette_item": gettext("Question %(n)s, %(state)s"),
        "question_paper": gettext("Question paper"),
        "title": gettext("question %(n)s"),
        "by_section": gettext("By section"),
        "section": gettext("Section"),
        "questions": gettext("Questions"),
    }


@dataclass(frozen=True)
class ExamShell:
    """The exam page's learner-independent part for one (test, paper version, interface language): both
    media alike (the paper JSON carries each question's Hindi part; the question on screen is a slot).

    `page` is attempt.html rendered once with a marker in place of every learner's value (their question,
    palette, counts, timer, CSRF token, state JSON), each marker then made a `{slot}` field of a format
    string (its other braces doubled): `fill` puts one learner's values (`screen_values`) in, in one C call.
    The page's `exam-paper` JSON is the paper as attempt.js reads it, in the paper's own order: each
    learner's order and option order come in their small `exam-data` JSON and the script applies them.
    """

    page: str
    slots: frozenset[str]
    context: dict  # the template context without the learner's values (the question-paper view renders with it)
    questions: dict[int, dict]  # the paper's questions by id (text, options, "hi"), canonical letters
    order: tuple[int, ...]  # the paper version's order (attempts stored without their own order follow it)
    section_of: dict[int, int]  # question id → index into the paper's sections
    labels: dict[str, str]  # STATE_LABELS in the interface language
    palette_aria: dict[str, tuple[str, str]]  # per state: the palette button's label before/after its number

    def fill(self, values: dict[str, str]) -> str:
        """The page for one learner: their values (HTML, escaped) put into the slots."""
        return self.page.format_map(values)


def exam_shell(*, test_id: int, version: int) -> ExamShell:
    """The shell for this paper version in the active interface language (kept per process)."""
    return _shell(test_id, version, translation.get_language())


# Safe to keep for the life of the process: a paper version never changes once frozen (an edit makes a new
# version: courses.caches.paper_key(test_id, version), "paper:<test>:v<version>", owns the paper's own cache
# and docs/exam.md says why), and the key holds the interface language, the one other thing the shell
# shows; the test's title, which an edit changes without a new version, is a slot. A few live mocks at a
# time in two languages: 32 shells of a 180-question paper are a few MB per process.
@functools.lru_cache(maxsize=32)
def _shell(test_id: int, version: int, language: str) -> ExamShell:
    paper = caches.paper_get_by_id(test_id=test_id, version=version)
    section_of = {qid: index for index, section in enumerate(paper["sections"]) for qid in section["question_ids"]}
    labels = state_labels()
    context = {
        "question_count": len(paper["questions"]),
        "exam_paper": json_script(_client_paper(paper, section_of, labels), "exam-paper"),
        "sections": [
            {"name": section["name"], "count": len(section["question_ids"]), "attempt_any": section.get("attempt_any")}
            for section in paper["sections"]
        ],
        "palette_names": [section["name"] if len(paper["sections"]) > 1 else "" for section in paper["sections"]],
        "legend": [{"code": code, "label": label} for code, label in labels.items()],
        "show_paper": False,
    }
    page = render_to_string(TEMPLATE, page_context(context, _marker))
    parts = page.split(MARKER)  # static, slot, static, slot, ..., static
    if len(parts) % 2 == 0:
        raise ValueError(f"{TEMPLATE} printed a slot marker cut in two (a learner's value through a filter?)")
    statics = [part.replace("{", "{{").replace("}", "}}") for part in parts[0::2]]
    item_label = gettext("Question %(n)s, %(state)s")
    return ExamShell(
        page="".join(static + (f"{{{slot}}}" if slot else "") for static, slot in zip_longest(statics, parts[1::2])),
        slots=frozenset(parts[1::2]),
        context=context,
        questions={question["id"]: question for question in paper["questions"]},
        order=tuple(question["id"] for question in paper["questions"]),
        section_of=section_of,
        labels=labels,
        palette_aria={
            code: tuple((escape(item_label) % {"n": MARKER, "state": escape(label)}).split(MARKER, 1))
            for code, label in labels.items()
        },
    )


def exam_shells_clear() -> None:
    """Forget this process's shells (tests: a flushed database may give another paper the same id and version)."""
    _shell.cache_clear()


TEMPLATE = "courses/attempt.html"
MARKER = "\x00"  # PostgreSQL text cannot hold it, and JSON escapes it: only the slots' markers contain it
CURRENT_FIELDS = (
    "number", "id", "text", "text_lang", "section_suffix", "options_html", "state_label", "back_disabled",
    "en_selected", "hi_selected", "note_hidden",
)  # fmt: skip


def _marker(slot: str) -> str:
    return mark_safe(f"{MARKER}{slot}{MARKER}")  # noqa: S308 - a constant marker, no markup


def page_context(shell_context: dict, value) -> dict:
    """attempt.html's context: the shell's, and `value(slot)` for each learner's value (a marker when the
    shell is built; the learner's HTML when the question paper is rendered whole). The template uses these
    values only as output, never in a condition or a loop: a marker would be true for every learner
    (tests/courses/test_exam_shell.py renders both ways and compares)."""
    return {
        **shell_context,
        "test": {"title": value("title")},
        "exam": {"deadline": value("deadline"), "server_now": value("server_now")},
        "time_left": value("time_left"),
        "messages_html": value("messages"),
        "csrf_token": value("csrf_token"),
        "answer_url": value("answer_url"),
        "submit_url": value("submit_url"),
        "exam_state": value("exam_state"),
        "current": {field: value(f"current_{field}") for field in CURRENT_FIELDS},
        "sections": [
            {
                **section,
                "answered": value(f"section_answered_{index}"),
                "first_number": value(f"section_first_{index}"),
                "current": value(f"section_current_{index}"),
            }
            for index, section in enumerate(shell_context["sections"])
        ],
        "legend": [{**row, "count": value(f"count_{row['code']}")} for row in shell_context["legend"]],
        "palette": [
            {"name": name, "html": value(f"palette_{index}")}
            for index, name in enumerate(shell_context["palette_names"])
        ],
    }


def screen_values(
    shell: ExamShell,
    progress: dict,
    *,
    attempt,
    number: int,
    view_in: str | None = None,
    show_paper: bool = False,
    script_urls: dict[str, str] | None = None,
) -> dict[str, str]:
    """One learner's values for the shell's slots (HTML, escaped), from `selectors.attempt_progress`.

    Palette states are NTA's (selectors.palette_state); the question on screen counts as visited. Text
    is in the attempt's medium; `view_in` ("en"/"hi", NTA's "View in") shows the current question in
    another. `script_urls` go into attempt.js's state. The caller adds the request's own values: title,
    csrf_token, messages, answer_url, submit_url.
    """
    order = attempt.question_order or shell.order
    letters = attempt.option_orders or {}
    answers = progress["answers"]
    current_id = order[number - 1]
    # The state of each question this learner has touched (visited, answered, marked); the rest are not
    # visited: the work per question of the paper is one dict lookup for the palette.
    touched = dict.fromkeys([*progress["visited"], current_id], "not_answered")
    touched |= {int(qid): selectors.palette_state(answer, True) for qid, answer in answers.items()}
    sections = _palette_items(shell, order, touched)
    counts, answered = _state_counts(shell, touched, total=len(order))
    current_section = shell.section_of.get(current_id, 0)
    values = {
        **_current_values(shell, attempt, number, current_id, letters, answers, view_in),
        "current_state_label": escape(shell.labels[touched[current_id]]),
        "deadline": progress["deadline"].isoformat(),
        "server_now": progress["server_now"].isoformat(),
        "time_left": clock_text(progress["seconds_left"]),
        "exam_state": json_script(
            {**_client_state(attempt, progress, order, letters), **(script_urls or {})}, "exam-data"
        ),
        **{f"count_{code}": str(count) for code, count in counts.items()},
    }
    for index, items in enumerate(sections):
        values[f"palette_{index}"] = _palette_html(items, shell.palette_aria, current_id)
        values[f"section_answered_{index}"] = str(answered[index])
        values[f"section_first_{index}"] = str(items[0][0] if items else 1)
        values[f"section_current_{index}"] = (
            ' aria-current="true"' if index == current_section and not show_paper else ""
        )
    return values


def _palette_items(shell: ExamShell, order, touched: dict[int, str]) -> list[list[tuple[int, int, str]]]:
    """(number, question id, state) per question, in the learner's order, per section."""
    items = [(n, qid, touched.get(qid, "not_visited")) for n, qid in enumerate(order, start=1)]
    if len(shell.context["sections"]) == 1:
        return [items]
    sections = [[] for _ in shell.context["sections"]]
    for item in items:
        sections[shell.section_of.get(item[1], 0)].append(item)
    return sections


def _state_counts(shell: ExamShell, touched: dict[int, str], *, total: int) -> tuple[dict[str, int], list[int]]:
    """The legend's count per state, and the answered questions per section (from the touched ones only)."""
    counts = dict.fromkeys(STATE_LABELS, 0)
    answered = [0] * len(shell.context["sections"])
    for qid, state in touched.items():
        counts[state] += 1
        if state in _ANSWERED:
            answered[shell.section_of.get(qid, 0)] += 1
    counts["not_visited"] = total - len(touched)
    return counts, answered


_ANSWERED = ("answered", "answered_and_marked")


def _current_values(shell, attempt, number, current_id, letters, answers, view_in) -> dict[str, str]:
    question = selectors.question_as_shown(
        shell.questions[current_id], number=number, letters=letters.get(str(current_id))
    )
    medium = medium_or_default(view_in or attempt.medium)
    translated = "hi" in question
    text, options = in_medium(question, medium)
    chosen = (answers.get(str(current_id)) or {}).get("option", "")
    index = shell.section_of.get(current_id, 0)
    section_name = shell.context["sections"][index]["name"] if len(shell.context["sections"]) > 1 else ""
    return {
        "current_number": str(number),
        "current_id": str(current_id),
        "current_text": escape(text),
        "current_text_lang": ' lang="hi"' if medium == "hi" and translated else "",
        "current_section_suffix": f" · {escape(section_name)}" if section_name else "",
        "current_options_html": _options_html(options, chosen),
        "current_back_disabled": " disabled" if number == 1 else "",
        "current_en_selected": "" if medium == "hi" else " selected",
        "current_hi_selected": " selected" if medium == "hi" else "",
        "current_note_hidden": " hidden" if medium != "hi" or translated else "",
    }


def _options_html(options: dict[str, str], chosen: str) -> str:
    """The current question's radio buttons (built here, like the palette: they are a learner's value)."""
    return "".join(
        f'<label class="option"><input type="radio" name="option" value="{letter}"'
        f'{" checked" if letter == chosen else ""}> <span class="opt-letter" aria-hidden="true">{letter}</span>'
        f' <span class="opt-text"><span class="visually-hidden">{letter}. </span>{escape(text)}</span></label>'
        for letter, text in options.items()
    )


def _palette_html(items: list[tuple[int, int, str]], aria: dict[str, tuple[str, str]], current_id: int) -> str:
    """The palette's buttons as HTML, built directly: 180 of them through the template language cost
    ~4 ms of CPU per page, through format_html_join ~1.5 ms (measured). Safe without escaping: every
    value is an int or one of STATE_LABELS' constant codes, and `aria` (the shell's, from our own catalog)
    is escaped once."""
    return "".join(
        [
            f'<li><a href="?q={n}#question" class="pal s-{state}" data-q="{qid}" data-n="{n}"'
            f' aria-label="{aria[state][0]}{n}{aria[state][1]}"{_CURRENT_STEP if qid == current_id else ""}>'
            f'<span class="pal-n">{n}</span></a></li>'
            for n, qid, state in items
        ]
    )


_CURRENT_STEP = ' aria-current="step"'


def paper_page(shell: ExamShell, values: dict[str, str], *, attempt) -> str:
    """The read-only question paper (`?view=paper`, the page without JavaScript: attempt.js shows it in
    place): every question in this learner's order, so the template is rendered for this learner."""
    context = page_context(shell.context, lambda slot: mark_safe(values[slot]))  # noqa: S308 - escaped HTML
    context.update(show_paper=True, questions=_paper_questions(shell, attempt))
    return render_to_string(TEMPLATE, context)


def _paper_questions(shell: ExamShell, attempt) -> list[dict]:
    order, letters = attempt.question_order or shell.order, attempt.option_orders or {}
    multiple = len(shell.context["sections"]) > 1
    questions = []
    for number, qid in enumerate(order, start=1):
        question = selectors.question_as_shown(shell.questions[qid], number=number, letters=letters.get(str(qid)))
        text, options = in_medium(question, attempt.medium)
        section = shell.context["sections"][shell.section_of.get(qid, 0)]["name"] if multiple else ""
        questions.append(
            {
                "number": number,
                "text": text,
                "options": [{"letter": letter, "text": option} for letter, option in options.items()],
                "section_name": section,
            }
        )
    return questions


def timer_context(state: dict) -> dict:
    return {"deadline": state["deadline"].isoformat(), "server_now": state["server_now"].isoformat()}


def _client_state(attempt, progress: dict, order, letters: dict) -> dict:
    """This learner's part of attempt.js's data (the paper and the words are the shell's `exam-paper`)."""
    return {
        "attempt_id": attempt.pk,
        "last_seq": progress["last_seq"],
        "answers": progress["answers"],
        "visited": progress["visited"],
        "medium": attempt.medium,
        "order": list(order),
        "option_orders": letters,
    }


def _client_paper(paper: dict, section_of: dict, labels: dict) -> dict:
    """The paper as attempt.js reads it, in the paper's order and canonical letters (no answers: the
    paper blob has none), with the sections and the screen's words in the interface language."""
    return {
        "paper": [
            {
                "id": q["id"],
                "t": q["text"],
                "o": list(q["options"].values()),
                "s": section_of.get(q["id"], 0),
                **_client_hindi(q),
            }
            for q in paper["questions"]
        ],
        "sections": [{"name": s["name"], "attempt_any": s.get("attempt_any")} for s in paper["sections"]],
        "labels": labels,
        "messages": screen_messages(),
    }


def _client_hindi(question: dict) -> dict:
    """{"h": {"t", "o"}} with English filled in where a Hindi field is blank; {} for an untranslated question."""
    if "hi" not in question:
        return {}
    text, options = in_medium(question, "hi")
    return {"h": {"t": text, "o": list(options.values())}}


def clock_text(seconds: int) -> str:
    """Seconds left as NTA's clock shows them, h:mm:ss (the page without JavaScript shows this once)."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


SUMMARY_ORDER = ("answered", "not_answered", "marked_for_review", "answered_and_marked", "not_visited")


def summary_rows(summary: dict) -> list[dict]:
    """The confirmation's rows in NTA's order, with the same labels as the palette's legend."""
    labels = state_labels()
    return [{"code": code, "label": labels[code], "count": summary[code]} for code in SUMMARY_ORDER]


def summary_section_rows(summary: dict) -> list[dict]:
    """NTA's per-section table on the submit screen: each section's total and count per state."""
    return [
        {"name": section["name"], "total": section["total"], "cells": summary_rows(section)}
        for section in summary["sections"]
    ]
