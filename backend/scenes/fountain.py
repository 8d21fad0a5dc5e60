"""Fountain (fountain.io/syntax, 1.1) → a flat list of elements, each with its 1-based source line.

Our own small parser (docs/scenes.md says why no package from PyPI): the scene mapping needs every
`[[note]]` — inline ones too — with the line it sits on, and the packages we read either drop inline notes
or keep no line numbers. Emphasis (`*`, `**`, `_`) is left in the text as written; `plain()` removes it.

Elements (kind → fields used):
  title_page   key, text                 scene_heading  text, scene_number, forced
  action       text, forced              character      text (name), extension, dual, forced
  parenthetical text                     dialogue       text
  lyrics       text                      transition     text, forced
  centered     text                      note           text (a note paragraph of its own)
  section      text, level               synopsis       text
  page_break
Every element carries `notes`: the inline notes written in or under it, as (line_no, text).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

SCENE_PREFIX = re.compile(r"^(INT\./EXT|INT/EXT|I/E|INT|EXT|EST)[. ]", re.IGNORECASE)
SCENE_NUMBER = re.compile(r"\s*#([\w.-]+)#\s*$")
# a title-page key is a word or two ("Title:", "Draft date:"), so a sentence with a colon stays action
TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*(?: [A-Za-z0-9_-]+)?):\s*(.*)$")
PAGE_BREAK = re.compile(r"^\s*={3,}\s*$")
PARENTHETICAL = re.compile(r"^\s*\(.*\)\s*$")
EMPHASIS = re.compile(r"(?<!\\)(\*{1,3})(?=\S)(.+?)(?<=\S)(?<!\\)\1")
UNDERLINE = re.compile(r"(?<![\w\\])_(?=\S)(.+?)(?<=\S)(?<!\\)_(?!\w)")   # not inside a word: snake_case stays


@dataclass(frozen=True)
class Note:
    line_no: int
    text: str       # the note's inside, stripped: "talking head"


@dataclass(frozen=True)
class Element:
    kind: str
    text: str
    line_no: int
    notes: tuple[Note, ...] = ()
    key: str | None = None              # title_page
    extension: str | None = None        # character: "V.O." / "CONT'D"
    dual: bool = False                  # character: ^
    forced: bool = False
    level: int = 0                      # section depth (#, ##, ###)
    scene_number: str | None = None     # scene_heading: #1A#


@dataclass(frozen=True)
class Problem:
    line_no: int
    message: str


@dataclass(frozen=True)
class Document:
    elements: tuple[Element, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def title_page(self) -> dict[str, str]:
        return {e.key: e.text for e in self.elements if e.kind == "title_page" and e.key}


@dataclass
class _Src:
    """One source line after boneyard and notes are taken out."""
    no: int
    text: str
    notes: list[Note] = field(default_factory=list)
    note_only: bool = False     # the line held only notes: it does not end a paragraph

    @property
    def blank(self) -> bool:
        # Two spaces on a line of their own are Fountain's way to keep a paragraph (dialogue) going.
        return not self.note_only and self.text.strip() == "" and self.text != "  "


def plain(text: str) -> str:
    """The text without Fountain emphasis markers (`*italic*`, `**bold**`, `_underline_`, `\\*` escapes)."""
    prev = None
    while prev != text:
        prev, text = text, UNDERLINE.sub(r"\1", EMPHASIS.sub(r"\2", text))
    return text.replace("\\*", "*").replace("\\_", "_")


BONEYARD = re.compile(r"/\*.*?\*/", re.DOTALL)
# a note may span lines, but not a blank line
# (a line of exactly two spaces is Fountain's way to keep a blank line inside a note)
NOTE = re.compile(r"\[\[((?:(?!\n(?:[ \t]?|[ \t]{3,})\n).)*?)\]\]", re.DOTALL)
_BONE, _NOTE = "\x01", "\x02"


def _strip_boneyard_and_notes(text: str) -> tuple[list[_Src], list[Problem]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    problems: list[Problem] = []

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def blot(mark: str):
        # keep the newlines (so line numbers stay) and mark what was covered
        return lambda m: re.sub(r"[^\n]", mark, m.group(0))

    text = BONEYARD.sub(blot(_BONE), text)
    if "/*" in text:
        problems.append(Problem(line_of(text.index("/*")), "a boneyard opened with /* is not closed with */"))
        text = text[: text.index("/*")] + re.sub(r"[^\n]", _BONE, text[text.index("/*"):])
    notes: dict[int, list[Note]] = {}
    for m in NOTE.finditer(text):
        no = line_of(m.start())
        notes.setdefault(no, []).append(Note(no, " ".join(m.group(1).replace(_BONE, "").split())))
    text = NOTE.sub(blot(_NOTE), text)
    for m in re.finditer(r"\[\[", text):
        problems.append(Problem(line_of(m.start()), "a note opened with [[ is not closed with ]] (on the same paragraph)"))
    out: list[_Src] = []
    for no, raw in enumerate(text.split("\n"), start=1):
        clean = raw.replace(_BONE, "")
        if _NOTE in raw:
            # "JACK[[note]]." → "JACK."; "word[[note]]word" keeps a space between the words
            clean = re.sub(r"(?<=(\S))" + _NOTE + r"+(?=\w)", " ", clean)
            clean = clean.replace(_NOTE, "")
            clean = re.sub(r"(?<=\S)  +(?=\S)", " ", clean).rstrip()
        if clean.strip() == "" and _NOTE in raw:
            out.append(_Src(no, "", list(notes.get(no, [])), note_only=True))
        elif clean.strip() == "" and _BONE in raw:
            continue    # wholly inside the boneyard: neither adds nor splits a paragraph
        else:
            out.append(_Src(no, clean.rstrip() if raw.strip() else raw, list(notes.get(no, []))))
    return out, problems


def _paragraphs(lines: list[_Src]) -> list[list[_Src]]:
    paras, cur = [], []
    for src in lines:
        if src.blank:
            if cur:
                paras.append(cur)
            cur = []
        else:
            cur.append(src)
    if cur:
        paras.append(cur)
    return paras


def _cue(text: str) -> tuple[str, str | None, bool, bool] | None:
    """A character cue → (name, extension, dual, forced), or None if the line is no cue."""
    s = text.strip()
    forced = s.startswith("@")
    if forced:
        s = s[1:].strip()
    dual = s.endswith("^")
    if dual:
        s = s[:-1].strip()
    m = re.match(r"^(.*?)\s*(\((.*)\))?$", s)
    name, ext = (m.group(1).strip(), m.group(3)) if m else (s, None)
    if not name:
        return None
    if not forced:
        # all capitals (the extension may be lower case: "HANS (on the radio)"), at least one letter
        if name != name.upper() or not re.search(r"[A-Z]", name) or SCENE_PREFIX.match(name + " "):
            return None
        if s.startswith(("!", ".", ">", "~", "=", "#")):
            return None
    return name, (ext.strip() if ext else None), dual, forced


def _notes(lines: list[_Src]) -> tuple[Note, ...]:
    return tuple(n for src in lines for n in src.notes)


def _single(src: _Src, first_para: bool) -> Element | None:
    """Elements that take one line and need nothing around them."""
    t = src.text.strip()
    if PAGE_BREAK.match(t):
        return Element("page_break", "", src.no, tuple(src.notes))
    if t.startswith("#"):
        level = len(t) - len(t.lstrip("#"))
        return Element("section", t[level:].strip(), src.no, tuple(src.notes), level=level)
    if t.startswith("=") and not t.startswith("=="):
        return Element("synopsis", t[1:].strip(), src.no, tuple(src.notes))
    if t.startswith(">") and t.endswith("<") and len(t) > 1:
        return Element("centered", t[1:-1].strip(), src.no, tuple(src.notes))
    return None


def _heading(src: _Src) -> Element | None:
    t = src.text.strip()
    forced = t.startswith(".") and not t.startswith("..") and len(t) > 1
    if not forced and not SCENE_PREFIX.match(t):
        return None
    body = t[1:].strip() if forced else t
    m = SCENE_NUMBER.search(body)
    number = m.group(1) if m else None
    if m:
        body = body[: m.start()].rstrip()
    return Element("scene_heading", body, src.no, tuple(src.notes), forced=forced, scene_number=number)


def parse(text: str) -> Document:
    """Parse Fountain text. Never raises: what cannot be understood is kept as action or reported in
    `Document.problems` (unclosed notes and boneyard)."""
    lines, problems = _strip_boneyard_and_notes(text)
    elements: list[Element] = []
    paras = _paragraphs(lines)
    for p_index, para in enumerate(paras):
        if all(src.note_only for src in para):
            elements.extend(Element("note", n.text, n.line_no) for n in _notes(para))
            continue
        # notes on lines of their own ride on the next line of text (or the last, at a paragraph's end)
        body = [src for src in para if not src.note_only]
        carry: list[Note] = []
        for src in para:
            if src.note_only:
                carry.extend(src.notes)
            elif carry:
                src.notes[:0] = carry
                carry = []
        if carry:
            body[-1].notes.extend(carry)

        # title page: key: value pairs at the very start of the document
        if p_index == 0 and TITLE_KEY.match(body[0].text.strip()):
            key = None
            vals: dict[str, list] = {}
            rest: list[_Src] = []
            for n, src in enumerate(body):
                indented = src.text.startswith(("   ", "    "))
                m = TITLE_KEY.match(src.text.strip()) if not indented else None
                if m:
                    key = m.group(1).strip()
                    vals[key] = [src.no, [m.group(2).strip()] if m.group(2).strip() else []]
                elif key and indented:
                    vals[key][1].append(src.text.strip())
                else:   # the title page ends at a line that is neither a key nor an indented value
                    rest = body[n:]
                    break
            elements.extend(Element("title_page", "\n".join(v), no, key=k) for k, (no, v) in vals.items())
            _classify(rest, elements)
            continue
        _classify(body, elements)
    return Document(tuple(elements), tuple(problems))


def _classify(body: list[_Src], out: list[Element]) -> None:
    while body:
        first = body[0]
        t = first.text.strip()
        single = _single(first, False)
        if single is not None:
            out.append(single)
            body = body[1:]
            continue
        heading = _heading(first)
        if heading is not None:
            out.append(heading)
            body = body[1:]
            continue
        if t.startswith(">"):
            out.append(Element("transition", t[1:].strip(), first.no, tuple(first.notes), forced=True))
            body = body[1:]
            continue
        if len(body) == 1 and t == t.upper() and t.endswith("TO:") and re.search(r"[A-Z]", t):
            out.append(Element("transition", t, first.no, tuple(first.notes)))
            return
        if t.startswith("~"):
            out.append(Element("lyrics", "\n".join(s.text.strip().lstrip("~").strip() for s in body),
                               first.no, _notes(body)))
            return
        cue = _cue(t) if not t.startswith("!") and len(body) > 1 else None
        if cue is not None:
            name, ext, dual, forced = cue
            out.append(Element("character", name, first.no, tuple(first.notes),
                               extension=ext, dual=dual, forced=forced))
            _dialogue(body[1:], out)
            return
        forced = t.startswith("!")
        text = "\n".join(s.text for s in body)
        if forced:
            text = text.lstrip()[1:]
        # action keeps its inner indentation but not the paragraph's common left margin
        out.append(Element("action", text.strip("\n").rstrip(), first.no, _notes(body), forced=forced))
        return


def _dialogue(lines: list[_Src], out: list[Element]) -> None:
    run: list[_Src] = []

    def flush():
        if run:
            out.append(Element("dialogue", "\n".join(s.text.strip() for s in run).strip(), run[0].no, _notes(run)))
            run.clear()

    for src in lines:
        t = src.text.strip()
        if PARENTHETICAL.match(t):
            flush()
            out.append(Element("parenthetical", t, src.no, tuple(src.notes)))
        elif t.startswith("~"):
            flush()
            out.append(Element("lyrics", t[1:].strip(), src.no, tuple(src.notes)))
        else:
            run.append(src)
    flush()
