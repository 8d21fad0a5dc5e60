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
from bisect import bisect_left
from dataclasses import dataclass, field

SCENE_PREFIX = re.compile(r"^(INT\./EXT|INT/EXT|I/E|INT|EXT|EST)[. ]", re.IGNORECASE)
SCENE_NUMBER_TEXT = re.compile(r"[\w.-]+")     # what may stand between the #s of a scene number
# a title-page key is a word or two ("Title:", "Draft date:"), so a sentence with a colon stays action
TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*(?: [A-Za-z0-9_-]+)?):\s*(.*)$")
PAGE_BREAK = re.compile(r"^\s*={3,}\s*$")
PARENTHETICAL = re.compile(r"^\s*\(.*\)\s*$")
# Every scan below is one left-to-right pass (with bisect over precomputed positions): a script comes from
# outside, and patterns such as "\*(.+?)\*" or "\[\[(.*?)\]\]" rescan to the end from every opener that never
# closes, which turned 0.2 MB of "[[" into minutes (issue 19). tests/security/test_parser.py feeds those shapes.
MAX_EMPHASIS_DEPTH = 6      # nesting peeled by plain(); deeper nesting (only hostile input has it) keeps markers


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
    for _ in range(MAX_EMPHASIS_DEPTH):
        prev = text
        text = _unwrap_underline(_unwrap_stars(text))
        if text == prev:
            break
    return text.replace("\\*", "*").replace("\\_", "_")


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"      # the regex module's \w


def _next_at_or_after(positions: list[int], pos: int, default: int) -> int:
    k = bisect_left(positions, pos)
    return positions[k] if k < len(positions) else default


def _positions(text: str, needle: str) -> list[int]:
    """Every start of `needle` in `text`, overlapping ones included ("]]]" holds two "]]")."""
    return [m.start() for m in re.finditer(f"(?={re.escape(needle)})", text)]



class _Next:
    """The first match of a pattern at or after a position, for positions that only grow: each search starts
    where the last one stopped, so a whole pass reads the text once."""

    def __init__(self, pattern: re.Pattern, text: str):
        self.pattern, self.text, self.found = pattern, text, -1
        self.searched_from = len(text) + 1      # nothing searched yet

    def at_or_after(self, pos: int) -> int:
        """The match's start, or len(text) when there is none."""
        if self.searched_from <= pos <= self.found or (self.found < 0 and self.searched_from <= pos):
            return self.found if self.found >= 0 else len(self.text)
        m = self.pattern.search(self.text, pos)
        self.searched_from, self.found = pos, (m.start() if m else -1)
        return self.found if m else len(self.text)


_STAR_OPENER = re.compile(r"(?<!\\)\*")
_STAR_CLOSERS = {k: re.compile(r"(?<=[^\s\\])\*{%d}" % k) for k in (1, 2, 3)}
_BAR_OPENER = re.compile(r"(?<![\w\\])_(?=\S)")
_BAR_CLOSER = re.compile(r"(?<=[^\s\\])_(?!\w)")
_NEWLINE = re.compile("\n")


def _unwrap_stars(text: str) -> str:
    """`*a*`, `**a**`, `***a***` → `a`, left to right without overlaps: an opener not after `\\` and before a
    non-space; its closer the nearest same-length run of `*` after a character that is neither a space nor `\\`,
    on the same line; a longer opener that finds no closer tries a shorter one."""
    if text.count("*") < 2:
        return text
    n = len(text)
    closers = {k: _Next(p, text) for k, p in _STAR_CLOSERS.items()}
    newline = _Next(_NEWLINE, text)
    out, pos = [], 0
    for m in _STAR_OPENER.finditer(text):
        i = m.start()
        if i < pos:
            continue
        for k in (3, 2, 1):
            if not text.startswith("*" * k, i) or i + k >= n or text[i + k].isspace():
                continue
            j = closers[k].at_or_after(i + k + 1)
            if j < n and newline.at_or_after(i + k) >= j:
                out += [text[pos:i], text[i + k:j]]
                pos = j + k
                break
    return "".join(out) + text[pos:] if out else text


def _unwrap_underline(text: str) -> str:
    """`_a_` → `a` when the underscores are not inside a word (snake_case stays), in the same single pass."""
    if text.count("_") < 2:
        return text
    n = len(text)
    closer, newline = _Next(_BAR_CLOSER, text), _Next(_NEWLINE, text)
    out, pos = [], 0
    for m in _BAR_OPENER.finditer(text):
        i = m.start()
        if i < pos:
            continue
        j = closer.at_or_after(i + 2)
        if j < n and newline.at_or_after(i + 1) >= j:
            out += [text[pos:i], text[i + 1:j]]
            pos = j + 1
    return "".join(out) + text[pos:] if out else text


_BONE, _NOTE = "\x01", "\x02"
_NOTE_RUN = re.compile(_NOTE + "+")


def _blot(segment: str, mark: str) -> str:
    """The segment covered by `mark`, its newlines kept (so line numbers stay)."""
    return "\n".join(mark * len(part) for part in segment.split("\n"))


# a newline that starts a blank line a note cannot span: a line of spaces only, except exactly two spaces
# (Fountain's way to keep a blank line inside a note); each lookahead reads one line, so the scan is linear
_NOTE_BREAK = re.compile(r"\n(?=(?: ?| {3,})\n)")


def _strip_boneyard_and_notes(text: str) -> tuple[list[_Src], list[Problem]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    problems: list[Problem] = []
    newlines = _positions(text, "\n")     # blotting below keeps every newline where it is

    def line_of(pos: int) -> int:
        return bisect_left(newlines, pos) + 1

    # boneyard: /* … */, the nearest */ closing; an unclosed /* hides the rest of the script
    pieces, pos = [], 0
    while (i := text.find("/*", pos)) >= 0:
        j = text.find("*/", i + 2)
        if j < 0:
            problems.append(Problem(line_of(i), "a boneyard opened with /* is not closed with */"))
            pieces += [text[pos:i], _blot(text[i:], _BONE)]
            pos = len(text)
            break
        pieces += [text[pos:i], _blot(text[i:j + 2], _BONE)]
        pos = j + 2
    text = "".join(pieces) + text[pos:]

    # notes: [[ … ]], the nearest ]] closing, within one paragraph; an opener that cannot close is skipped
    closes = _positions(text, "]]")
    breaks = [m.start() for m in _NOTE_BREAK.finditer(text)] if closes else []
    notes: dict[int, list[Note]] = {}
    pieces, pos, i = [], 0, text.find("[[")
    while i >= 0:
        j = _next_at_or_after(closes, i + 2, -1)
        if j < 0:
            break       # no ]] after this opener, so none after any later one either
        if _next_at_or_after(breaks, i + 2, j) >= j:
            no = line_of(i)
            notes.setdefault(no, []).append(Note(no, " ".join(text[i + 2:j].replace(_BONE, "").split())))
            pieces += [text[pos:i], _blot(text[i:j + 2], _NOTE)]
            pos = j + 2
            i = text.find("[[", pos)
        else:
            i = text.find("[[", i + 1)
    text = "".join(pieces) + text[pos:]
    i = text.find("[[")
    while i >= 0:
        problems.append(Problem(line_of(i), "a note opened with [[ is not closed with ]] (on the same paragraph)"))
        i = text.find("[[", i + 2)

    out: list[_Src] = []
    marked = _BONE in text or _NOTE in text
    for no, raw in enumerate(text.split("\n"), start=1):
        if not marked or (_BONE not in raw and _NOTE not in raw):
            out.append(_Src(no, raw.rstrip() if raw.strip() else raw, []))
            continue
        clean = raw.replace(_BONE, "")
        if _NOTE in raw:
            # "JACK[[note]]." → "JACK."; "word[[note]]word" keeps a space between the words
            clean = _NOTE_RUN.sub(lambda m: _note_gap(m, clean), clean)
            clean = re.sub(r"(?<=\S)  +(?=\S)", " ", clean).rstrip()
        if clean.strip() == "" and _NOTE in raw:
            out.append(_Src(no, "", list(notes.get(no, [])), note_only=True))
        elif clean.strip() == "" and _BONE in raw:
            continue    # wholly inside the boneyard: neither adds nor splits a paragraph
        else:
            out.append(_Src(no, clean.rstrip() if raw.strip() else raw, list(notes.get(no, []))))
    return out, problems


def _note_gap(m: re.Match, line: str) -> str:
    """What a note leaves in its line: a space where it stood between a word and a word, else nothing."""
    a, b = m.span()
    before_text = a > 0 and not line[a - 1].isspace()
    return " " if b < len(line) and _is_word(line[b]) and (before_text or b - a >= 2) else ""


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
    # "NAME (ext)": the extension runs from the first "(" to a ")" that ends the cue
    paren = s.find("(")
    if s.endswith(")") and 0 <= paren < len(s) - 1:
        name, ext = s[:paren].strip(), s[paren + 1:-1]
    else:
        name, ext = s.strip(), None
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
    number = None
    if body.endswith("#"):      # "INT. HOUSE - DAY #1A#"
        opening = body.rfind("#", 0, len(body) - 1)
        if opening >= 0 and SCENE_NUMBER_TEXT.fullmatch(body, opening + 1, len(body) - 1):
            number, body = body[opening + 1:-1], body[:opening].rstrip()
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
    # one-line elements advance an index: `body = body[1:]` made 100,000 one-line sections quadratic
    for k, first in enumerate(body):
        t = first.text.strip()
        left = len(body) - k
        single = _single(first, False)
        if single is not None:
            out.append(single)
            continue
        heading = _heading(first)
        if heading is not None:
            out.append(heading)
            continue
        if t.startswith(">"):
            out.append(Element("transition", t[1:].strip(), first.no, tuple(first.notes), forced=True))
            continue
        if left == 1 and t == t.upper() and t.endswith("TO:") and re.search(r"[A-Z]", t):
            out.append(Element("transition", t, first.no, tuple(first.notes)))
            return
        if t.startswith("~"):
            out.append(Element("lyrics", "\n".join(s.text.strip().lstrip("~").strip() for s in body[k:]),
                               first.no, _notes(body[k:])))
            return
        cue = _cue(t) if not t.startswith("!") and left > 1 else None
        if cue is not None:
            name, ext, dual, forced = cue
            out.append(Element("character", name, first.no, tuple(first.notes),
                               extension=ext, dual=dual, forced=forced))
            _dialogue(body[k + 1:], out)
            return
        forced = t.startswith("!")
        text = "\n".join(s.text for s in body[k:])
        if forced:
            text = text.lstrip()[1:]
        # action keeps its inner indentation but not the paragraph's common left margin
        out.append(Element("action", text.strip("\n").rstrip(), first.no, _notes(body[k:]), forced=forced))
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
