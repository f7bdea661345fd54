"""Page forms for the courses pages. They check shape; the services decide what is allowed and say why."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Grade
from courses.models import Course
from courses.services import MAX_SEQ

OPTION_CHOICES = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]


def _translated(choices) -> list[tuple[str, str]]:
    """A model's choices with their labels in the interface language (locale/hi; docs/hindi.md)."""
    return [(value, _(label)) for value, label in choices]


class CatalogFilterForm(forms.Form):
    class_level = forms.ChoiceField(
        label=_("Class"), required=False, choices=[("", _("All classes")), *_translated(Grade.choices)]
    )
    type = forms.ChoiceField(
        label=_("Course type"), required=False, choices=[("", _("All types")), *_translated(Course.Type.choices)]
    )


class TopicWeekForm(forms.Form):
    """The topic leaderboard's `?week=`: an ISO week (2026-W48) from two years back to this week. The
    page shows any valid week; this bounds the weeks nginx and Redis keep a copy of (cerebrum.http_cache)."""

    week = forms.RegexField(regex=r"^\d{4}-W\d{2}$", required=False)
    SHARED_WEEKS = 105

    def clean_week(self) -> str:
        week = self.cleaned_data["week"]
        if not week:
            return week
        try:
            monday = datetime.fromisocalendar(int(week[:4]), int(week[6:]), 1).date()
        except ValueError:
            raise forms.ValidationError(_("Use an ISO week like 2026-W48.")) from None
        this_monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
        if not this_monday - timedelta(weeks=self.SHARED_WEEKS) <= monday <= this_monday:
            raise forms.ValidationError(_("Use an ISO week like 2026-W48."))
        return week


class FreeTestForm(forms.Form):
    """A visitor's name and phone before a free test (kept as a FreeUser lead)."""

    name = forms.CharField(max_length=150, label=_("Name"), widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(
        max_length=20,
        label=_("Mobile number"),
        help_text=_("Indian mobile, e.g. 98123 45678."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel", "inputmode": "tel"}),
    )
    grade = forms.ChoiceField(
        label=_("Class"), required=False, choices=[("", _("Choose…")), *_translated(Grade.choices)]
    )


class AnswerForm(forms.Form):
    """One press of an exam-screen button without JavaScript (NTA's buttons; docs/exam.md).

    `option` is the canonical letter the radio carries (the learner may see the options in another
    order). `seq` is the page's client sequence number; blank lets the service assign a newer one.
    """

    class Action(models.TextChoices):
        SAVE_NEXT = "save_next", "Save & Next"
        MARK_NEXT = "mark_next", "Mark for Review & Next"
        CLEAR = "clear", "Clear Response"
        BACK = "back", "Back"

    question_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    option = forms.ChoiceField(choices=OPTION_CHOICES, required=False, widget=forms.RadioSelect)
    seq = forms.IntegerField(required=False, min_value=1, max_value=MAX_SEQ, widget=forms.HiddenInput)
    # A form posted by an old page (or a hand-made request) without an action means Save & Next.
    action = forms.ChoiceField(choices=Action.choices, required=False)

    def clean_action(self) -> str:
        return self.cleaned_data.get("action") or self.Action.SAVE_NEXT


class AnswerBatchItemForm(forms.Form):
    """One item of attempt.js's queued batch (`AnswerInput` in docs/exam.md)."""

    question_id = forms.IntegerField(min_value=1)
    option = forms.ChoiceField(choices=[("", "none"), *OPTION_CHOICES], required=False)
    marked_for_review = forms.BooleanField(required=False)
    seq = forms.IntegerField(min_value=1, max_value=MAX_SEQ)
    time_spent_seconds = forms.IntegerField(required=False, min_value=0, max_value=24 * 3600)


class SubmitForm(forms.Form):
    """The confirmation step: "Yes, submit" carries confirm=1; without it the summary page is shown."""

    confirm = forms.BooleanField(required=False)
