"""Page forms for the courses pages. They check shape; the services decide what is allowed and say why."""

from __future__ import annotations

from django import forms

from accounts.models import Grade
from courses.models import Course

OPTION_CHOICES = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]


class CatalogFilterForm(forms.Form):
    class_level = forms.ChoiceField(label="Class", required=False, choices=[("", "All classes"), *Grade.choices])
    type = forms.ChoiceField(label="Course type", required=False, choices=[("", "All types"), *Course.Type.choices])


class FreeTestForm(forms.Form):
    """A visitor's name and phone before a free test (kept as a FreeUser lead)."""

    name = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(
        max_length=20,
        label="Mobile number",
        help_text="Indian mobile, e.g. 98123 45678.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel", "inputmode": "tel"}),
    )
    grade = forms.ChoiceField(label="Class", required=False, choices=[("", "Choose…"), *Grade.choices])


class AnswerForm(forms.Form):
    question_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    option = forms.ChoiceField(choices=OPTION_CHOICES, required=False, widget=forms.RadioSelect)
    marked_for_review = forms.BooleanField(required=False, label="Mark for review")
    clear = forms.BooleanField(required=False, widget=forms.HiddenInput)
    next = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
