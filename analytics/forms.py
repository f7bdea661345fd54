from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone

DEFAULT_DAYS = 30
MAX_DAYS = 366


class DateRangeForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        cleaned = super().clean()
        end = cleaned.get("end") or timezone.localdate()
        start = cleaned.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError({"start": "Start must be on or before end."})
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError({"start": f"At most {MAX_DAYS} days at a time."})
        cleaned.update(start=start, end=end)
        return cleaned

    def range(self) -> tuple[date, date]:
        """The chosen range, or the last 30 IST days when the input is missing or invalid."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        end = timezone.localdate()
        return end - timedelta(days=DEFAULT_DAYS - 1), end
