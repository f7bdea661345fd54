"""The NTA exam screen's template context, from `selectors.attempt_state`'s dict (pure: no I/O).

Kept apart from courses/views.py so the views stay thin: palette states and their words, section tabs
with counts, the legend, the current question, and the JSON attempt.js starts from (docs/exam.md).
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from courses import selectors
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


def exam_screen(state: dict, *, number: int, with_paper: bool = False, view_in: str | None = None) -> dict:
    """Palette, sections, legend and the current question from `selectors.attempt_state`'s dict.

    Palette states are NTA's (selectors.palette_state); the question on screen counts as visited.
    `exam` is the JSON attempt.js starts from (the paper in this learner's order, answers with seq);
    `questions` (every question, for the question-paper view) only `with_paper`. Text is in the
    attempt's medium; `view_in` ("en"/"hi", NTA's "View in") shows the current question in another.
    """
    paper, answers, visited = state["paper"], state["answers"], set(state["visited"])
    medium = state.get("medium", "en")
    labels = state_labels()
    section_of = {qid: index for index, section in enumerate(state["sections"]) for qid in section["question_ids"]}
    current_id = paper[number - 1]["id"]
    visited.add(current_id)
    states = {q["id"]: selectors.palette_state(answers.get(str(q["id"])), q["id"] in visited) for q in paper}
    palette = [
        {"name": section["name"] if len(state["sections"]) > 1 else "", "items": []} for section in state["sections"]
    ]
    for question in paper:
        qid = question["id"]
        palette[section_of.get(qid, 0)]["items"].append(
            {
                "id": qid,
                "number": question["number"],
                "state": states[qid],
                "label": labels[states[qid]],
                "current": qid == current_id,
            }
        )
    item_label = gettext("Question %(n)s, %(state)s")
    for section in palette:
        section["html"] = _palette_html(section["items"], labels, item_label)
    counts = dict.fromkeys(STATE_LABELS, 0)
    for code in states.values():
        counts[code] += 1
    return {
        "questions": [_question(q, state["sections"], section_of, medium) for q in paper] if with_paper else [],
        "question_count": len(paper),
        "current": {
            **_current(
                paper[number - 1], answers, states, state["sections"], section_of, medium_or_default(view_in or medium)
            ),
            "state_label": labels[states[current_id]],
        },
        "medium": medium,
        "sections": _sections(palette, section_of.get(current_id, 0), state["sections"]),
        "palette": palette,
        "legend": [{"code": code, "label": label, "count": counts[code]} for code, label in labels.items()],
        "exam": {
            **timer_context(state),
            **_client_state(state, section_of),
            "labels": labels,
            "messages": screen_messages(),
        },
        "time_left": clock_text(state["seconds_left"]),
    }


def _palette_html(items: list[dict], labels: dict[str, str], item_label: str) -> str:
    """The palette's buttons as HTML, built directly: 180 of them through the template language cost
    ~4 ms of CPU per page, through format_html_join ~1.5 ms (measured). Safe without escaping: every
    value is an int or one of STATE_LABELS' constant codes, and the labels and `item_label` (our own
    catalog's, "Question %(n)s, %(state)s" in the interface language) are escaped once."""
    # (before, after) the number, per state
    aria = {
        code: tuple((escape(item_label) % {"n": "\x00", "state": escape(label)}).split("\x00", 1))
        for code, label in labels.items()
    }
    html = []
    for item in items:
        n, qid, state = int(item["number"]), int(item["id"]), item["state"]
        current = ' aria-current="step"' if item["current"] else ""
        html.append(
            f'<li><a href="?q={n}#question" class="pal s-{state}" data-q="{qid}" data-n="{n}"'
            f' aria-label="{aria[state][0]}{n}{aria[state][1]}"{current}><span class="pal-n">{n}</span></a></li>'
        )
    return mark_safe("".join(html))  # noqa: S308 - ints and constants only (see above)


def _question(question: dict, sections: list[dict], section_of: dict, medium: str) -> dict:
    index = section_of.get(question["id"], 0)
    text, options = in_medium(question, medium)
    return {
        "id": question["id"],
        "number": question["number"],
        "text": text,
        "options": [{"letter": letter, "text": option} for letter, option in options.items()],
        "section_name": sections[index]["name"] if len(sections) > 1 else "",
        "medium": medium,
        "translated": "hi" in question,
    }


def _current(question: dict, answers: dict, states: dict, sections: list[dict], section_of: dict, medium: str) -> dict:
    saved = answers.get(str(question["id"])) or {}
    return {
        **_question(question, sections, section_of, medium),
        "chosen": saved.get("option", ""),
        "marked": saved.get("marked_for_review", False),
        "state_label": STATE_LABELS[states[question["id"]]],
    }


def _sections(palette: list[dict], current_index: int, sections: list[dict]) -> list[dict]:
    answered = ("answered", "answered_and_marked")
    return [
        {
            "name": section["name"],
            "count": len(items["items"]),
            "answered": sum(1 for item in items["items"] if item["state"] in answered),
            "first_number": items["items"][0]["number"] if items["items"] else 1,
            "attempt_any": section.get("attempt_any"),
            "current": index == current_index,
        }
        for index, (section, items) in enumerate(zip(sections, palette, strict=True))
    ]


def timer_context(state: dict) -> dict:
    return {"deadline": state["deadline"].isoformat(), "server_now": state["server_now"].isoformat()}


def _client_state(state: dict, section_of: dict) -> dict:
    return {
        "attempt_id": state["id"],
        "last_seq": state["last_seq"],
        "answers": state["answers"],
        "visited": state["visited"],
        "sections": [{"name": s["name"], "attempt_any": s.get("attempt_any")} for s in state["sections"]],
        "medium": state.get("medium", "en"),
        "paper": [
            {
                "id": q["id"],
                "n": q["number"],
                "t": q["text"],
                "o": list(q["options"].values()),
                "s": section_of.get(q["id"], 0),
                **_client_hindi(q),
            }
            for q in state["paper"]
        ],
        "labels": STATE_LABELS,
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
