"""The forms on a page as a browser would send them untouched: each field's
current value (checked boxes, selected options, textarea text, hidden inputs)."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class PageForm:
    action: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    file_fields: list[str] = field(default_factory=list)

    def data(self) -> dict[str, str | list[str]]:
        return {k: v[0] if len(v) == 1 else v for k, v in self.fields.items()}


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self._select: tuple[str, bool] | None = None  # name, multiple
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def _add(self, name: str | None, value: str) -> None:
        if name and self.forms:
            self.forms[-1].fields.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        at = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(PageForm(at.get("action", "")))
        elif tag == "input" and self.forms:
            kind = at.get("type", "text").lower()
            if kind == "file":
                self.forms[-1].file_fields.append(at.get("name", ""))
            elif kind in ("checkbox", "radio"):
                if "checked" in at:
                    self._add(at.get("name"), at.get("value", "on"))
            elif kind not in ("submit", "button", "reset", "image"):
                self._add(at.get("name"), at.get("value", ""))
        elif tag == "select":
            self._select = (at.get("name", ""), "multiple" in at)
            self._select_first, self._select_chosen = None, False
        elif tag == "option" and self._select is not None:
            value = at.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in at:
                self._add(self._select[0], value)
                self._select_chosen = True
        elif tag == "textarea":
            self._textarea = at.get("name", "")
            self._add(self._textarea, "")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self.forms:
            values = self.forms[-1].fields[self._textarea]
            values[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            name, multiple = self._select
            if (
                not self._select_chosen
                and not multiple
                and self._select_first is not None
            ):
                self._add(name, self._select_first)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            values = self.forms[-1].fields[self._textarea]
            values[-1] = values[-1].removeprefix("\n")
            self._textarea = None


def forms_on(html: str) -> list[PageForm]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_as_shown(html: str, field: str) -> dict[str, str | list[str]]:
    """The data of the page's form holding `field`, as a browser would send it."""
    for form in forms_on(html):
        if field in form.fields or field in form.file_fields:
            return form.data()
    raise AssertionError(f"no form with {field!r} on the page")
