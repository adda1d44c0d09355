"""Prompt files: HTML with `{{field}}` placeholders and `<mask>`/`<mask>N` slots, plus front matter.

    ---
    task: generate
    fields: {"document": "text"}
    reference: summary        # the input field holding the expected answer (for --metric)
    size_hint: 12
    ---
    <html><head><title><mask></title></head><body><p>{{document}}</p></body></html>

A template is checked when it is loaded (front matter keys and values, placeholder syntax,
balanced tags, the slots the task needs), and every error names the file and line. Values
are escaped for where they land (text: `& < >`; attribute values: also quotes), in one pass,
so no input, not `</title><mask>` nor `{{other}}`, can change the template's structure.
Field kinds: `text` (a string), `table` (rows, or a mapping, rendered as an HTML table with
every cell escaped) and `page` (a raw HTML page, reduced to its MHTML body by the project's
own simplifier).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

MASK = "<mask>"
FIELD_KINDS = ("text", "table", "page")
TASKS = ("generate", "classify")
MAX_TEMPLATE_CHARS = 200_000
VOID_TAGS = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
)
# HTML lets these end tags be left out; a template may do the same.
OPTIONAL_END_TAGS = frozenset(["p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option"])

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SLOT = re.compile(r"<mask>(\d*)")
TOKEN = re.compile(rf"{PLACEHOLDER.pattern}|{SLOT.pattern}")


class TemplateError(ValueError):
    """A prompt file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Placeholder:
    """`{{name}}` in the template; `in_attribute` says which escaping its value gets."""

    name: str
    line: int
    in_attribute: bool


@dataclass(frozen=True)
class Slot:
    """A mask slot; `size_hint` is the number written after `<mask>` in the file, if any."""

    index: int
    size_hint: int | None
    line: int
    in_attribute: bool


@dataclass(frozen=True)
class PromptSettings:
    """The front matter of a prompt file, with its defaults."""

    task: str = "generate"
    fields: Mapping[str, str] = field(default_factory=dict)  # name -> kind
    reference: str | None = None  # input field with the expected answer (ROUGE / accuracy)
    labels: Mapping[str, str] = field(default_factory=dict)  # label -> words in the slot
    domain: Mapping[str, str] = field(default_factory=dict)  # x_domain values for PMI (default "")
    size_hint: int | None = None  # for slots written without one
    beam: int = 5
    top_p: float | None = None  # sample with top-p instead of beam search
    max_new_tokens: int | None = None  # per slot; default: sized from the hint
    description: str = ""


SETTING_TYPES: dict[str, tuple[type, ...]] = {
    "task": (str,),
    "fields": (dict, list),
    "reference": (str,),
    "labels": (dict, list),
    "domain": (dict,),
    "size_hint": (int,),
    "beam": (int,),
    "top_p": (float, int),
    "max_new_tokens": (int,),
    "description": (str,),
}


@dataclass(frozen=True)
class Rendered:
    """A filled template: the document text and, per slot, the filled text before and after it."""

    text: str
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]


@dataclass(frozen=True)
class PromptTemplate:
    """A parsed prompt file: literal text, placeholders and slots in order, and its settings."""

    name: str
    settings: PromptSettings
    parts: tuple[str | Placeholder | Slot, ...]

    @property
    def slots(self) -> list[Slot]:
        return [part for part in self.parts if isinstance(part, Slot)]

    @property
    def placeholders(self) -> list[Placeholder]:
        return [part for part in self.parts if isinstance(part, Placeholder)]

    @property
    def fields(self) -> dict[str, str]:
        """Every input field the template reads, with its kind (`text` unless declared)."""
        names = dict.fromkeys(p.name for p in self.placeholders)
        return {name: self.settings.fields.get(name, "text") for name in names}

    def render(
        self,
        values: Mapping[str, str],
        fills: Sequence[str | None] | None = None,
        hints: Sequence[int | None] | None = None,
        masked_fields: Sequence[str] = (),
    ) -> Rendered:
        """The document for `values` (each made by `htlm.prompts.fields`; text fields are escaped here).

        Each slot becomes `<mask>N` (N from `hints`, else the file's, else the settings'
        default) or, where `fills` gives a string, that string escaped. A field named in
        `masked_fields` becomes a bare `<mask>` instead of its value (noisy-channel scoring).
        """
        kinds = self.fields
        out: list[str] = []
        length = 0  # characters in `out`
        starts: list[int] = []
        ends: list[int] = []
        for part in self.parts:
            if isinstance(part, str):
                piece = part
            elif isinstance(part, Placeholder):
                if part.name in masked_fields:
                    piece = MASK
                elif kinds[part.name] == "text":
                    piece = escape(values[part.name], part.in_attribute)
                else:  # markup that htlm.prompts.fields built from escaped parts
                    piece = values[part.name]
            else:
                fill = fills[part.index] if fills is not None else None
                hint = hints[part.index] if hints is not None else None
                piece = (
                    escape(fill, part.in_attribute)
                    if fill is not None
                    else mask_text(hint if hint is not None else self.hint_of(part))
                )
                starts.append(length)
                ends.append(length + len(piece))
            out.append(piece)
            length += len(piece)
        text = "".join(out)
        bounds = [0, *ends]
        prefixes = tuple(text[bounds[i] : starts[i]] for i in range(len(starts)))
        suffixes = tuple(
            text[ends[i] : starts[i + 1] if i + 1 < len(starts) else len(text)] for i in range(len(ends))
        )
        return Rendered(text, prefixes, suffixes)

    def hint_of(self, slot: Slot) -> int | None:
        """The size hint a slot gets when none is given: the file's number, else the default."""
        return slot.size_hint if slot.size_hint is not None else self.settings.size_hint


def mask_text(size_hint: int | None) -> str:
    """`<mask>` followed by the size hint, if any (the training format)."""
    return MASK if size_hint is None else f"{MASK}{int(size_hint)}"


def escape(value: str, in_attribute: bool) -> str:
    """`value` as HTML text (`& < >` escaped) or as a quoted attribute value (quotes too)."""
    return html.escape(value, quote=in_attribute)


# ---------------------------------------------------------------------------------------------
# Loading


def load_template(path: str | Path) -> PromptTemplate:
    """Read and check a prompt file; TemplateError names the file and line of each problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise TemplateError(f"{path}: cannot read the prompt file ({error.strerror})") from error
    if size > MAX_TEMPLATE_CHARS * 4:
        raise TemplateError(
            f"{path}: {size:,} bytes; a prompt file holds at most {MAX_TEMPLATE_CHARS:,} characters"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise TemplateError(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from error
    return parse_template(text, name=str(path))


def parse_template(text: str, name: str = "<prompt>") -> PromptTemplate:
    """Parse and check a prompt file's text (see the module docstring for the format)."""
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"{name}: {len(text):,} characters; at most {MAX_TEMPLATE_CHARS:,}")
    settings, body, first_line = _split_front_matter(text, name)
    _check_braces(body, name, first_line)
    _check_tags(TOKEN.sub(lambda m: "x" * len(m.group(0)), body), name, first_line)
    parts: list[str | Placeholder | Slot] = []
    position = 0
    for match in TOKEN.finditer(body):
        parts.append(body[position : match.start()])
        line = body.count("\n", 0, match.start())
        in_attribute = _inside_tag(body, match.start())
        if match.group(1):
            parts.append(Placeholder(match.group(1), line + first_line, in_attribute))
        else:
            hint = int(match.group(2)) if match.group(2) else None
            parts.append(Slot(sum(isinstance(p, Slot) for p in parts), hint, line + first_line, in_attribute))
        position = match.end()
    parts.append(body[position:])
    template = PromptTemplate(name, settings, tuple(part for part in parts if part != ""))
    _check_semantics(template, name)
    return template


def _split_front_matter(text: str, name: str) -> tuple[PromptSettings, str, int]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return PromptSettings(), text, 1
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise TemplateError(f"{name}:1: front matter opened with '---' is never closed") from None
    values: dict[str, Any] = {}
    for number in range(1, end):
        line = lines[number].strip()
        if not line or line.startswith("#"):
            continue
        key, sep, raw = line.partition(":")
        key, raw = key.strip(), raw.strip()
        if not sep or key not in SETTING_TYPES:
            known = ", ".join(SETTING_TYPES)
            raise TemplateError(f"{name}:{number + 1}: expected 'key: value' with a key among {known}")
        try:
            value = (
                json.loads(raw) if raw[:1] in '[{"' or re.fullmatch(r"-?[\d.]+|true|false|null", raw) else raw
            )
        except json.JSONDecodeError as error:
            raise TemplateError(f"{name}:{number + 1}: {key}: not valid JSON ({error.msg})") from None
        if (value is not None and not isinstance(value, SETTING_TYPES[key])) or isinstance(value, bool):
            raise TemplateError(
                f"{name}:{number + 1}: {key}: {raw!r} is not a {SETTING_TYPES[key][0].__name__}"
            )
        values[key] = value
    if isinstance(values.get("fields"), list):
        values["fields"] = dict.fromkeys(values["fields"], "text")
    if isinstance(values.get("labels"), list):
        values["labels"] = {label: label for label in values["labels"]}
    if "top_p" in values:
        values["top_p"] = float(values["top_p"])
    try:
        settings = PromptSettings(**values)
    except TypeError as error:  # pragma: no cover - keys are checked above
        raise TemplateError(f"{name}: front matter: {error}") from None
    return settings, "\n".join(lines[end + 1 :]), end + 2


def _check_braces(body: str, name: str, first_line: int) -> None:
    for match in re.finditer(r"\{\{.*?(\}\}|$)", body, flags=re.MULTILINE):
        if not PLACEHOLDER.fullmatch(match.group(0)):
            line = body.count("\n", 0, match.start())
            raise TemplateError(
                f"{name}:{line + first_line}: {match.group(0)[:40]!r} is not a placeholder; "
                f"write {{{{name}}}} with a name of letters, digits and '_'"
            )


def _inside_tag(body: str, position: int) -> bool:
    return body.rfind("<", 0, position) > body.rfind(">", 0, position)


class _TagChecker(HTMLParser):
    """Balanced tags: the first mismatched end tag, and the elements left open (lines 1-based)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.mismatch: tuple[int, str, tuple[str, int] | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID_TAGS:
            self.stack.append((tag, self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS or self.mismatch:
            return
        while self.stack and self.stack[-1][0] != tag and self.stack[-1][0] in OPTIONAL_END_TAGS:
            self.stack.pop()
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()
        else:
            self.mismatch = (self.getpos()[0], tag, self.stack[-1] if self.stack else None)


def _check_tags(body: str, name: str, first_line: int) -> None:
    checker = _TagChecker()
    checker.feed(body)
    checker.close()
    line_of = lambda line: line - 1 + first_line  # noqa: E731  (1-based body line -> file line)
    if checker.mismatch:
        line, tag, opened = checker.mismatch
        closes = f"<{opened[0]}> opened on line {line_of(opened[1])}" if opened else "nothing"
        raise TemplateError(f"{name}:{line_of(line)}: </{tag}> closes {closes}")
    unclosed = [(tag, line) for tag, line in checker.stack if tag not in OPTIONAL_END_TAGS]
    if unclosed:
        tag, line = unclosed[0]
        raise TemplateError(f"{name}:{line_of(line)}: <{tag}> is never closed")


def _check_semantics(template: PromptTemplate, name: str) -> None:
    settings = template.settings
    if settings.task not in TASKS:
        raise TemplateError(f"{name}: task {settings.task!r}: use one of {', '.join(TASKS)}")
    for field_name, kind in settings.fields.items():
        if kind not in FIELD_KINDS:
            raise TemplateError(
                f"{name}: field {field_name!r} has kind {kind!r}; kinds: {', '.join(FIELD_KINDS)}"
            )
    for placeholder in template.placeholders:
        if settings.fields and placeholder.name not in settings.fields:
            raise TemplateError(
                f"{name}:{placeholder.line}: {{{{{placeholder.name}}}}} is not among the declared fields "
                f"({', '.join(settings.fields)})"
            )
        kind = template.fields[placeholder.name]
        if kind != "text" and placeholder.in_attribute:
            raise TemplateError(f"{name}:{placeholder.line}: a {kind} field cannot sit inside a tag")
    unused = set(settings.fields) - set(template.fields)
    if unused:
        raise TemplateError(
            f"{name}: declared fields never used in the template: {', '.join(sorted(unused))}"
        )
    slots = template.slots
    if not slots:
        raise TemplateError(f"{name}: no <mask> slot; a prompt needs one for the answer")
    if settings.task == "classify":
        if len(slots) != 1:
            raise TemplateError(
                f"{name}:{slots[1].line}: a classify prompt has exactly one <mask> slot (the label)"
            )
        if len(settings.labels) < 2:
            raise TemplateError(f"{name}: a classify prompt needs 'labels' with at least two entries")
    if settings.beam < 1 or (settings.top_p is not None and not 0 < settings.top_p <= 1):
        raise TemplateError(f"{name}: beam must be >= 1 and top_p in (0, 1]")
    if settings.reference is not None and settings.reference in template.fields:
        raise TemplateError(f"{name}: the reference field {settings.reference!r} would be shown to the model")
