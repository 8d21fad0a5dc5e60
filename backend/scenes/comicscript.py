"""The comic-script dialect → the same Scene as Fountain, with the same line-numbered errors.

What comic writers write (comic-writer, panels; docs/pages.md):

    PAGE ONE                                  a page starts (PAGE 1, PAGE TWO (4 panels), PAGES 2-3)
    Panel 1                                   a panel (a shot); its description follows
    The harbour at night. Fog.                description paragraph(s): the image prompt
    CAPTION: Port Ellery.                     the panel's caption (several are joined)
    MARA: The lights are out.                 a line in Mara's cast voice
    BEN (whispering): Keep it low.            the qualifier is the line's parenthetical
    SFX: KREEEK                               a sound effect lettered on the panel
    [[push in]]                               the Fountain notes work on their own line

A cue is a name in capitals before a colon; a line after it that is none of the above continues its text.
`Title: …` lines at the very top set the title, as on a Fountain title page.
"""
from __future__ import annotations

import re
from typing import Iterable, Literal

from backend.scenes import fountain
from backend.scenes.model import MAX_SHOTS, Line, Scene
from backend.scenes.script import _Builder, finish, parse_scene

Dialect = Literal["fountain", "comic"]
DIALECTS: tuple[str, ...] = ("fountain", "comic")

NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                "sixteen seventeen eighteen nineteen").split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_NUM = rf"(?:[0-9]+|(?:{'|'.join(TENS)})(?:[ -](?:{'|'.join(NUMBER_WORDS[1:10])}))?|{'|'.join(NUMBER_WORDS)})"
PAGE = re.compile(rf"^\s*PAGES?\s+({_NUM})(?:\s*[-–]\s*{_NUM})?\s*(\(.*\))?\s*[.:]?\s*$", re.IGNORECASE)
PANEL = re.compile(r"^\s*PANEL\s+(\d+)\b\s*[.:]?\s*(.*)$", re.IGNORECASE)
# a name is short: bounding it keeps a long line of capitals from backtracking (linear time on any input)
CUE = re.compile(r"^\s*(?:\d{1,3}\.\s*)?([A-Z][A-Z0-9 .'’-]{0,40}?)\s*(?:\(([^)]{0,80})\))?\s*:\s*(.*)$")
MAX_SCRIPT_CHARS = 200_000   # as for Fountain scripts
SPECIAL = re.compile(r"^\s*(?:\d+\.\s*)?(caption|narration|sfx)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$", re.IGNORECASE)
EXTENSION = re.compile(r"^(V\.?O\.?|O\.?S\.?|O\.?C\.?|CONT'?D|CONT\.)$", re.IGNORECASE)  # cue extensions, as in Fountain
NOTE_LINE = re.compile(r"^\s*\[\[(.*)\]\]\s*$")
TITLE_KEY = re.compile(r"^(Title|Author|Credit|Source|Draft date|Series|Issue)\s*:\s*(.*)$", re.IGNORECASE)


def detect_dialect(text: str) -> Dialect:
    """"comic" when the script has PAGE and Panel lines of its own (or several panels), else "fountain"."""
    lines = (text or "").splitlines()
    pages = sum(1 for t in lines if PAGE.match(t) and not t.lstrip().startswith("#"))
    panels = sum(1 for t in lines if PANEL.match(t) and len(t.split()) <= 6)
    return "comic" if panels >= 2 or (panels and pages) else "fountain"


def parse_any(text: str, cast_names: Iterable[str]) -> Scene:
    """A script in either dialect, detected."""
    if detect_dialect(text) == "comic":
        return parse_comic_script(text, cast_names)
    return parse_scene(text, cast_names)


def parse_comic_script(text: str, cast_names: Iterable[str]) -> Scene:
    """Parse a comic script against the cast's names. Raises ScriptErrors with every problem found."""
    b = _Builder(cast_names)
    if len(text or "") > MAX_SCRIPT_CHARS:
        b.error(1, f"the script is {len(text):,} characters; at most {MAX_SCRIPT_CHARS:,} are allowed")
        return finish(b, [], None, None)
    title = None
    raw = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = 0
    for n, t in enumerate(raw):   # title page: key lines at the very top
        m = TITLE_KEY.match(t.strip())
        if not t.strip():
            if n == start:
                start += 1
                continue
            break
        if not m:
            break
        if m.group(1).casefold() == "title":
            title = m.group(2).strip() or None
        start = n + 1

    shot: dict | None = None
    panel_no = 0
    page_no = 0
    desc: list[str] = []
    line: dict | None = None    # the line being read (continuations append to it)
    talking_head = False
    pages_seen = False

    def close_panel():
        nonlocal shot, desc, line, talking_head
        if shot is None:
            return
        shot["description"] = fountain.plain(" ".join(" ".join(desc).split()))
        if not shot["description"]:
            where = f"panel {panel_no}" + (f" of page {page_no}" if page_no else "")
            b.error(shot["line_no"], f"{where} has no description: write what we see on the line under "
                                     f"'Panel {panel_no}'")
        if talking_head:
            speakers = [ln.character for ln in shot["lines"]]
            if speakers:
                shot["kind"] = "talking_head"
                shot["character"] = speakers[0]
                shot["camera"] = shot["camera"] or "still"
        shot, desc, line, talking_head = None, [], None, False

    def finish_line():
        nonlocal line
        if line is None or shot is None:
            line = None
            return
        marked = " ".join(" ".join(line["text"]).split())
        text_ = fountain.plain(marked)
        if line["kind"] == "caption":
            shot["caption"] = f"{shot['caption']} {text_}".strip() if shot["caption"] else text_
        elif line["kind"] == "sfx":
            shot["sfx"].append(text_)
        elif line["name"] is not None:
            q = line["qualifier"]
            ext = q if q and EXTENSION.match(q) else None
            shot["lines"].append(Line(character=line["name"], text=text_, parenthetical=None if ext else q,
                                      line_no=line["line_no"], extension=ext,
                                      marked=marked if marked != text_ else None))
        line = None

    for no, t in enumerate(raw[start:], start=start + 1):
        s = t.strip()
        if not s:
            finish_line()
            continue
        note = NOTE_LINE.match(s)
        if note:
            finish_line()
            inner = " ".join(note.group(1).split())
            if inner.casefold().replace("-", " ") == "talking head":
                if shot is None:
                    b.error(no, "[[talking head]] goes in a panel, under its description")
                else:
                    talking_head = True
            elif inner.casefold().startswith("title:"):
                close_panel()
                b.apply_note(fountain.Note(no, inner), None)
            else:
                b.apply_note(fountain.Note(no, inner), shot)
            continue
        if PAGE.match(s) and not CUE.match(s):
            finish_line()
            close_panel()
            page_no += 1
            if pages_seen or b.shots:
                b.page_break = True
            pages_seen = True
            continue
        m = PANEL.match(s)
        if m and len(s.split()) <= 6:
            finish_line()
            close_panel()
            panel_no = int(m.group(1))
            shot = b.new_shot("panel", no, "")
            if m.group(2).strip():
                desc.append(m.group(2).strip())
            continue
        cue = SPECIAL.match(s) or CUE.match(s)
        if cue and cue.group(1).strip() and not s.startswith("("):
            finish_line()
            name, qualifier, words = cue.group(1).strip(), cue.group(2), cue.group(3)
            if shot is None:
                b.error(no, f"{name}: comes before the first panel; start a panel with 'Panel 1' and its description")
                continue
            key = name.casefold()
            if key in ("caption", "narration", "narrator"):
                line = {"kind": "caption", "text": [words], "line_no": no}
            elif key in ("sfx", "sound", "sound effect"):
                line = {"kind": "sfx", "text": [words], "line_no": no}
            else:
                found = b.cast_name(fountain.Element("character", name, no))
                line = {"kind": "line", "name": found, "qualifier": qualifier.strip() if qualifier else None,
                        "text": [words], "line_no": no}
                if not words.strip():
                    b.error(no, f"{name}'s line is empty: write the words after the colon")
            continue
        if line is not None:        # no blank line since the cue: the words go on
            line["text"].append(s)
        elif shot is None:
            b.error(no, "text before the first panel: start a panel with 'Panel 1' (and pages with 'PAGE ONE')")
        else:
            desc.append(s)
    finish_line()
    close_panel()
    if not b.shots and not b.errors:
        b.error(1, "the script has no panels: write 'Panel 1' and what we see in it")
    if len(b.shots) > MAX_SHOTS:
        b.error(b.shots[MAX_SHOTS]["line_no"],
                f"the script has {len(b.shots)} panels; at most {MAX_SHOTS} are allowed "
                f"(panel {MAX_SHOTS + 1} starts here)")
    for note in b.pending:
        b.error(note.line_no, f"[[{note.text}]] has no panel to apply to: write it under a panel")
    return finish(b, b.shots, None, title)


def number_word(n: int) -> str:
    """1 → ONE, 21 → TWENTY-ONE (how comic scripts name pages)."""
    if 0 <= n < 20:
        return NUMBER_WORDS[n].upper()
    if n < 100:
        tens, ones = divmod(n, 10)
        return (TENS[tens - 2] + (f"-{NUMBER_WORDS[ones]}" if ones else "")).upper()
    return str(n)
