"""A small reusable modal form: labelled fields, inline validation, `ctrl+s` save, careful `escape`.

How to use it (every form in eim builds on this):

    class HoldForm(FormScreen):
        FORM_TITLE = "Put INC-000001 on hold"

        def form_fields(self) -> list[Field]:
            return [
                Field("reason", "Reason", kind="select", options=[("awaiting user", "awaiting_user"), ...],
                      required=True),
                Field("note", "Note", kind="area"),
            ]

        def validate(self, values: dict[str, object]) -> dict[str, str]:
            errors = super().validate(values)          # required fields
            if values["reason"] == "other" and not values["note"]:
                errors["note"] = "Say why"
            return errors

    self.app.push_screen(HoldForm(), callback)        # callback gets the values dict, or None on cancel

- Field kinds: "text" (Input, optional `suggestions` for completion), "area" (TextArea), "select"
  (Select over `options` = [(label, value)]; a blank choice reads as None), "check" (Checkbox,
  a bool), "info" (read-only text a subclass refreshes with `set_info`, e.g. a computed priority).
  `help` is a muted line under the field (`set_help` changes it); `set_options` refills a select.
- `prefill={name: value}` opens the form with those values (for example after a refusal, to give
  the typed text back); "dirty" is still measured against each Field's own `value`.
- The heading is `FORM_TITLE` (not Textual's `Screen.TITLE`); `form_title()` may compute it.
- Hooks: `validate(values) -> {name: message}` (messages appear under their fields and the first
  bad field takes focus); `field_changed(name, value)` on every edit (live previews); `save(values)`
  — by default dismisses the screen with the values; override it to save from inside the form and
  call `show_errors(...)` or `dismiss(...)` yourself.
- Keys: `tab` / `shift+tab` move between fields (Textual's focus chain), `ctrl+s` saves, `escape`
  cancels — and asks first (`ConfirmScreen`) when anything was typed.
- Widget ids: the input of field NAME is `#field-NAME`, its message `#error-NAME`; the form's own
  message line is `#form-message` (`show_message`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from eim_tui.tui.dialogs.confirm import ConfirmScreen
from eim_tui.tui.widgets.key_footer import KeyFooter
from eim_tui.tui.workers import ReportsWorkers

FieldKind = Literal["text", "area", "select", "check", "info"]


@dataclass
class Field:
    """One labelled field of a form; `value` is the starting value (the baseline for "dirty")."""

    name: str
    label: str
    kind: FieldKind = "text"
    value: Any = ""
    options: Sequence[tuple[str, Any]] = ()
    required: bool = False
    placeholder: str = ""
    help: str = ""
    suggestions: Sequence[str] = ()


class FormScreen(ReportsWorkers, ModalScreen[dict[str, Any] | None]):
    """Base class of eim's modal forms; see the module docstring."""

    FORM_TITLE = "Form"
    DEFAULT_CSS = """
    FormScreen {
        align: center middle;
        #form-box {
            width: 80%;
            max-width: 100;
            min-width: 40;
            height: auto;
            max-height: 100%;
            background: $surface;
            border: thick $primary;
            border-title-color: $text;
            border-title-style: bold;
            padding: 0 1;
        }
        #form-fields { height: auto; max-height: 1fr; }  /* long forms scroll inside the box */
        .form-field { height: auto; margin-bottom: 1; }
        .form-field Input, .form-field Select, .form-field TextArea { background: $boost; }
        .form-label { color: $text-muted; }
        .form-label.-required { color: $text; }
        .form-field:focus-within > .form-label { color: $text-accent; text-style: bold; }
        .form-field:focus-within > Checkbox { text-style: bold; }
        .form-help { color: $text-muted; }
        .form-error { color: $text-error; display: none; }
        .form-error.-shown { display: block; }
        .form-info { color: $text; text-style: bold; }
        TextArea { height: 4; }
        #form-message { height: auto; color: $text-warning; display: none; margin-bottom: 1; }
        #form-message.-shown { display: block; }
        #form-box > Footer { dock: bottom; }
    }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save", tooltip="Check the fields and save", priority=True),
        Binding("escape", "cancel", "Cancel", id="form.cancel", tooltip="Close the form (asks if text was typed)"),
    ]

    def __init__(self, prefill: dict[str, Any] | None = None, message: str = "") -> None:
        super().__init__()
        self._fields = {f.name: f for f in self.form_fields()}
        self._prefill = dict(prefill or {})
        self._message = message

    # --- what subclasses provide --------------------------------------------------------------------

    def form_title(self) -> str:
        """The heading on the form's border; `FORM_TITLE` unless a subclass adds to it."""
        return self.FORM_TITLE

    def form_fields(self) -> list[Field]:
        """The fields, in order. Called once, from __init__."""
        return []

    def validate(self, values: dict[str, Any]) -> dict[str, str]:
        """Field name → message for each bad field. The base checks `required`."""
        errors: dict[str, str] = {}
        for name, spec in self._fields.items():
            value = values.get(name)
            if spec.required and (value is None or (isinstance(value, str) and not value.strip())):
                errors[name] = f"{spec.label} is required"
        return errors

    def field_changed(self, name: str, value: Any) -> None:
        """Called on every edit; override for live previews."""

    def save(self, values: dict[str, Any]) -> None:
        """Called with valid values; the default hands them to the caller."""
        self.dismiss(values)

    # --- composing ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box") as box:
            box.border_title = self.form_title()
            yield Static(Text(self._message), id="form-message", classes="-shown" if self._message else "")
            with VerticalScroll(id="form-fields"):
                for spec in self._fields.values():
                    with Vertical(classes="form-field", id=f"row-{spec.name}"):
                        if spec.kind != "check":  # a checkbox carries its own label
                            label = Text(spec.label + (" *" if spec.required else ""))
                            yield Label(label, classes="form-label" + (" -required" if spec.required else ""))
                        yield self._widget_for(spec, self._prefill.get(spec.name, spec.value))
                        help_line = Static(Text(spec.help), id=f"help-{spec.name}", classes="form-help")
                        help_line.display = bool(spec.help)
                        yield help_line
                        yield Static("", id=f"error-{spec.name}", classes="form-error")
            yield KeyFooter()

    def _widget_for(self, spec: Field, value: Any) -> Widget:
        wid = f"field-{spec.name}"
        if spec.kind == "area":
            return TextArea(str(value or ""), id=wid, soft_wrap=True, tab_behavior="focus", compact=True)
        if spec.kind == "select":
            options = [(label, val) for label, val in spec.options]
            known = value in {val for _, val in options}
            return Select(options, id=wid, value=value if known else Select.NULL,
                          prompt=spec.placeholder or "choose…", allow_blank=not spec.required or not known,
                          compact=True)
        if spec.kind == "check":
            return Checkbox(spec.label, bool(value), id=wid, compact=True)
        if spec.kind == "info":
            return Static(Text(str(value or "")), id=wid, classes="form-info")
        suggester = SuggestFromList(spec.suggestions, case_sensitive=False) if spec.suggestions else None
        return Input(str(value if value is not None else ""), id=wid, placeholder=spec.placeholder,
                     suggester=suggester, compact=True)

    def on_mount(self) -> None:
        for spec in self._fields.values():
            if spec.kind != "info":
                self.query_one(f"#field-{spec.name}").focus()
                break

    # --- reading and writing fields ----------------------------------------------------------------

    def value_of(self, name: str) -> Any:
        spec = self._fields[name]
        widget = self.query_one(f"#field-{name}")
        if spec.kind == "area":
            return widget.text  # type: ignore[attr-defined]
        if spec.kind == "select":
            value = widget.value  # type: ignore[attr-defined]
            return None if value is Select.NULL else value
        if spec.kind == "check":
            return bool(widget.value)  # type: ignore[attr-defined]
        if spec.kind == "info":
            return spec.value
        return widget.value  # type: ignore[attr-defined]

    def values(self) -> dict[str, Any]:
        return {name: self.value_of(name) for name in self._fields if self._fields[name].kind != "info"}

    @property
    def dirty(self) -> bool:
        """True when any field differs from its Field.value (what the form would lose on cancel)."""
        for name, value in self.values().items():
            start = self._fields[name].value
            if self._fields[name].kind in ("text", "area"):
                if str(value or "").strip() != str(start or "").strip():
                    return True
            elif value != (start if start != "" else None) and not (value is False and not start):
                return True
        return False

    def set_info(self, name: str, content: str | Text) -> None:
        self.query_one(f"#field-{name}", Static).update(content if isinstance(content, Text) else Text(content))

    def set_help(self, name: str, text: str) -> None:
        line = self.query_one(f"#help-{name}", Static)
        line.update(Text(text))
        line.display = bool(text)

    def set_options(self, name: str, options: Sequence[tuple[str, Any]], value: Any = None) -> None:
        select = self.query_one(f"#field-{name}", Select)
        select.set_options(list(options))
        if value is not None and value in {v for _, v in options}:
            select.value = value

    def show_errors(self, errors: dict[str, str]) -> None:
        first = None
        for name in self._fields:
            error = self.query_one(f"#error-{name}", Static)
            message = errors.get(name, "")
            error.update(Text(message))
            error.set_class(bool(message), "-shown")
            if message and first is None:
                first = name
        if first is not None:
            target = self.query_one(f"#field-{first}")
            target.focus()
            target.scroll_visible()

    def show_message(self, message: str) -> None:
        line = self.query_one("#form-message", Static)
        line.update(Text(message))
        line.set_class(bool(message), "-shown")

    # --- events and actions -------------------------------------------------------------------------

    def _changed(self, widget: Widget | None) -> None:
        if widget is None or not widget.id or not widget.id.startswith("field-"):
            return
        name = widget.id.removeprefix("field-")
        if name in self._fields:
            error = self.query_one(f"#error-{name}", Static)
            error.set_class(False, "-shown")
            self.field_changed(name, self.value_of(name))

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _on_value_changed(self, event: Input.Changed | Select.Changed | Checkbox.Changed) -> None:
        self._changed(event.control)

    @on(TextArea.Changed)
    def _on_text_changed(self, event: TextArea.Changed) -> None:
        self._changed(event.text_area)

    @on(Input.Submitted)
    def _on_submitted(self, event: Input.Submitted) -> None:
        # Enter in a one-line field moves on, like tab: saving is always the explicit ctrl+s.
        event.stop()
        self.focus_next()

    def action_save(self) -> None:
        # ctrl+s is a priority binding: it overtakes keys typed just before it that still wait in
        # the focused field's queue. Checking from that same queue reads the field after them.
        (self.focused or self).call_later(self._check_and_save)

    def _check_and_save(self) -> None:
        values = self.values()
        errors = self.validate(values)
        self.show_errors(errors)
        if not errors:
            self.save(values)

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answered(drop: bool | None) -> None:
            if drop:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Drop the text you typed?", yes="Drop it", no="Keep editing"), answered)
