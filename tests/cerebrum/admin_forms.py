"""Submitting a Django admin change form as a browser would: every field with its current value."""

from __future__ import annotations

from html.parser import HTMLParser


class _ChangeForm(HTMLParser):
    """The fields of the page's change form (`<form ... id="<model>_form">`), inlines included."""

    def __init__(self):
        super().__init__()
        self.fields: list[list[str]] = []
        self._in_form = False
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and a.get("id", "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append([a["name"], a.get("value", "on")])
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.fields.append([a["name"], a.get("value", "")])
        elif tag == "select" and a.get("name"):
            self._select, self._select_value, self._first_option = a["name"], None, None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields.append([a["name"], ""])

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else ""
            self.fields.append([self._select, value])
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self.fields[-1][1] += data.removeprefix("\n") if not self.fields[-1][1] else data


def admin_form_data(html: str, **changes: str) -> dict[str, list[str]]:
    """The change form's data as the browser would post it, with `changes` applied (field name → value)."""
    parser = _ChangeForm()
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    for name, value in changes.items():
        data[name] = [value]
    data["_save"] = ["Save"]
    return data
