"""The form side of refusing lost updates (kapcare.lib.concurrency), shared by the
clinic's edit pages: a hidden `seen` holding the fingerprint of what the form
showed, and, when a save was refused because someone else saved first, what is
saved now in each entry that differs, with the form's entry noted below it."""

from collections.abc import Callable
from datetime import datetime, time
from typing import Any, TypeVar

from django import forms
from django.db import models
from django.http import QueryDict
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from kapcare.lib.concurrency import ChangedMeanwhileError, fingerprint

STALE_FORM = (
    "This form does not say what it was opened with, so nothing was saved. Open "
    "the page again, then make your change."
)

M = TypeVar("M", bound=models.Model)
F = TypeVar("F", bound=forms.BaseForm)


def seen_field(initial: str = "") -> forms.CharField:
    return forms.CharField(
        widget=forms.HiddenInput, initial=initial,
        error_messages={"required": STALE_FORM},
    )  # fmt: skip


class SeenForm(forms.Form):
    """`seen` on its own: the base of a plain (not model) edit form, or beside a
    formset, which has no single form to carry it."""

    seen = seen_field()


def add_seen_field(
    form: forms.ModelForm[M], values: Callable[[M], list[object]]
) -> None:
    """Give the edit form of a saved row its hidden `seen`, the fingerprint of
    `values(row)`. A new row has nothing to compare, so no field."""
    if not form.instance._state.adding:
        form.fields["seen"] = seen_field(fingerprint(values(form.instance)))


def show_saved_values(form: forms.BaseForm) -> None:
    """After a save refused because someone else saved first: put what is saved
    now back into every entry that differs from it, with the form's entry in a
    note below. Saving again then never reverts the colleague's change by
    accident (a stale "by email" tick would turn messages back on for a patient
    who opted out); re-applying an entry is a choice the editor makes."""
    data = form.data.copy()  # type: ignore[attr-defined]
    for name in form.changed_data:
        field = form.fields[name]
        widget = field.widget
        if (
            widget.is_hidden
            or name == "DELETE"
            or isinstance(widget, forms.FileInput | forms.MultiWidget)
        ):  # a formset's flag, a file (never refilled) or a compound widget
            continue
        entry = form[name].value()  # as the form had it
        key = form.add_prefix(name)
        saved = field.prepare_value(form.get_initial_for_field(field, name))
        if isinstance(widget, forms.CheckboxInput):
            if widget.check_test(saved):
                data[key] = "on"
            else:
                data.pop(key, None)
        else:
            shown = widget.format_value(saved)
            values = (
                shown if isinstance(shown, list) else [] if shown is None else [shown]
            )
            data.setlist(key, [str(value) for value in values])
        if isinstance(widget, forms.Textarea) and entry:
            # written text is kept whole, lines and all, to copy back if wanted
            note = format_html(
                'Not saved: this form had<span class="kept-text">{}</span>', entry
            )
            form.add_error(name, note)
        else:
            form.add_error(name, f"Not saved: this form had {_shown(field, entry)}.")
    form.data = data


def shown_again(
    make: Callable[[QueryDict], F], posted: QueryDict, seen: str,
    refusal: ChangedMeanwhileError,
) -> F:  # fmt: skip
    """The edit form again after someone else saved first: `make` binds it to what
    was posted with `seen` now the saved version (so saving again goes through),
    the refusal on top, and what is saved now in every entry that differs."""
    data = posted.copy()
    data["seen"] = seen
    form = make(data)
    form.add_error(None, str(refusal))
    show_saved_values(form)
    return form


def _shown(field: forms.Field, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "nothing"
    if isinstance(field, forms.BooleanField):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or "no file"
    choices = getattr(field, "choices", None) or getattr(field.widget, "choices", None)
    if choices is not None:
        labels = {str(key): str(label) for key, label in choices}
        picked = value if isinstance(value, list | tuple) else [value]
        shown = [labels.get(str(getattr(v, "pk", v)), str(v)) for v in picked]
        return ", ".join(shown)
    return Truncator(" ".join(str(value).split())).chars(200) or "nothing"
