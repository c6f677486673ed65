"""Fill in an admin change form the way a browser would, from the page's own HTML.

Tests post what the page offers (every input, select and textarea of the
form, inlines and management forms included), changed where the test says,
so they keep working however the admin lays its fields out.
"""

from html.parser import HTMLParser

SKIPPED_TYPES = {"submit", "button", "file", "image", "reset"}


class _FormParser(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in SKIPPED_TYPES or (kind in ("checkbox", "radio") and "checked" not in attrs):
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self.fields.append((name, attrs.get("value", default) or ""))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None


def form_data(html: str, form_id: str = "article_form") -> dict[str, list[str]]:
    """What submitting the form with id `form_id` as it stands would post."""
    parser = _FormParser(form_id)
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


def add_inline_form(data: dict, prefix: str) -> str:
    """Add a blank form to an inline formset (as "Add another" does); return its prefix."""
    index = int(data[f"{prefix}-TOTAL_FORMS"][0])
    data[f"{prefix}-TOTAL_FORMS"] = [str(index + 1)]
    template = f"{prefix}-__prefix__-"
    for name in [name for name in data if name.startswith(template)]:
        data[f"{prefix}-{index}-" + name.removeprefix(template)] = data[name]
    return f"{prefix}-{index}"


def submittable(data: dict) -> dict:
    """The data without the empty-form templates, ready to post."""
    return {name: values for name, values in data.items() if "__prefix__" not in name}
