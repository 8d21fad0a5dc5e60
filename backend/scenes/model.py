"""The scene model: what a parsed Fountain scene is, what the renderer is given and what it returns.

Everything here is a frozen dataclass with no I/O, so the parser, the timeline, the job planner and the
renderer can share it without importing each other. The studio-side scene store (persistence, planning,
tabs, API) builds on these names; change them only together with that side.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from backend.pages.model import ArtFaces, Book

ShotKind = Literal["panel", "talking_head", "title"]
Camera = Literal["still", "push_in", "pull_out", "pan_left", "pan_right"]
AnimateEngine = Literal["animatelcm", "svd"]
Aspect = Literal["16:9", "9:16", "1:1"]
TalkingHeadMode = Literal["full", "inset"]

SHOT_KINDS: tuple[str, ...] = ("panel", "talking_head", "title")
CAMERAS: tuple[str, ...] = ("still", "push_in", "pull_out", "pan_left", "pan_right")
ANIMATE_ENGINES: tuple[str, ...] = ("animatelcm", "svd")
ASPECTS: tuple[str, ...] = ("16:9", "9:16", "1:1")
RESOLUTIONS: tuple[int, ...] = (720, 1080)
FPS_CHOICES: tuple[int, ...] = (24, 25, 30)
TALKING_HEAD_MODES: tuple[str, ...] = ("full", "inset")
RenderMode = Literal["motion_comic", "full_frame"]
RENDER_MODES: tuple[str, ...] = ("motion_comic", "full_frame")   # motion comic: the camera through the pages
Transition = Literal["cut", "dissolve"]
TRANSITIONS: tuple[str, ...] = ("cut", "dissolve")
# Where a character stands in a panel: a named region or [x, y, w, h] fractions of the picture (IP-Adapter masks).
Region = str | tuple[float, float, float, float]
REGIONS: tuple[str, ...] = ("full", "left", "right", "center", "top", "bottom")

MAX_SHOTS = 200
MAX_SCRIPT = 200_000     # characters of Fountain, checked where a script is saved and where it is parsed
MAX_DURATION_S = 15 * 60.0


@dataclass(frozen=True)
class Line:
    """One dialogue block: spoken in the character's cast voice."""
    character: str          # the cast member's name as the cast spells it (not the cue's spelling)
    text: str
    parenthetical: str | None
    line_no: int            # 1-based line of the cue in the script
    extension: str | None = None    # the cue's extension: "V.O.", "O.S.", "CONT'D" (lettering reads it)
    marked: str | None = None       # the text with its emphasis markers (*…*, **…**) as written, if it had any


@dataclass(frozen=True)
class Appearance:
    """A cast member seen in a panel, and where: their portrait conditions that part of the picture."""
    character: str                  # the cast's spelling
    region: Region = "full"


@dataclass(frozen=True)
class Shot:
    """One shot of the storyboard, in order. `index` is 0-based; messages show it 1-based ("shot 4")."""
    index: int
    kind: ShotKind
    line_no: int                    # where the shot starts in the script
    description: str                # panel: the action text (the image prompt); title: the card's text
    character: str | None = None    # talking_head: whose portrait speaks
    lines: tuple[Line, ...] = ()
    animate: AnimateEngine | None = None
    image: str | None = None        # [[image: name-or-library-id]]: use this image instead of making one
    hold_s: float | None = None     # [[hold 3s]]: the shot's length, whatever its speech
    camera: Camera = "push_in"
    caption: str | None = None      # [[caption: text]]: a caption box over the panel
    sfx: tuple[str, ...] = ()       # [[sfx: KRAK]] / SFX: lettered on the panel's action
    page_break: bool = False        # a page starts with this shot (Fountain's ===, a PAGE heading)
    transition: Transition = "cut"  # into this shot: a hard cut unless the script asks ([[dissolve]])
    close_up: bool = False          # [[close up]]: a talking head filling the frame, in the motion comic too
    appearances: tuple[Appearance, ...] = ()  # who is in the panel (speakers and cast named in the action)

    @property
    def label(self) -> str:
        """How errors and progress name the shot: "shot 4 (panel, line 17)"."""
        return f"shot {self.index + 1} ({self.kind.replace('_', ' ')}, line {self.line_no})"


@dataclass(frozen=True)
class Scene:
    heading: str | None             # the first scene heading (INT. KITCHEN - NIGHT), if any
    title: str | None               # the title page's Title, if any
    shots: tuple[Shot, ...]
    music: str | None = None        # tags from [[music: ...]]

    @property
    def characters(self) -> tuple[str, ...]:
        """The cast members who speak or appear, in order of first appearance."""
        seen: dict[str, None] = {}
        for shot in self.shots:
            if shot.character:
                seen.setdefault(shot.character)
            for line in shot.lines:
                seen.setdefault(line.character)
        return tuple(seen)


@dataclass(frozen=True)
class ScriptError:
    line_no: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line_no}: {self.message}"


class ScriptErrors(ValueError):
    """All the problems found in a script, one per line in str()."""

    def __init__(self, errors: list[ScriptError] | tuple[ScriptError, ...]):
        self.errors: tuple[ScriptError, ...] = tuple(sorted(errors, key=lambda e: e.line_no))
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class RenderSettings:
    aspect: Aspect = "16:9"
    resolution: int = 720
    fps: int = 24
    burn_subtitles: bool = False
    talking_head: TalkingHeadMode = "full"
    mode: RenderMode = "motion_comic"   # full frame where the scene has no pages

    def __post_init__(self):
        checks = (("aspect", self.aspect, ASPECTS), ("resolution", self.resolution, RESOLUTIONS),
                  ("fps", self.fps, FPS_CHOICES), ("talking_head", self.talking_head, TALKING_HEAD_MODES),
                  ("mode", self.mode, RENDER_MODES))
        for name, value, allowed in checks:
            if value not in allowed:
                raise ValueError(f"{name}: {value!r} is not one of {', '.join(map(str, allowed))}")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height). `resolution` is the short side for 16:9 and 1:1; 9:16 is always 1080×1920
        at 1080 and 720×1280 at 720."""
        short = self.resolution
        long = short * 16 // 9
        if self.aspect == "16:9":
            return long, short
        if self.aspect == "9:16":
            return short, long
        return short, short


@dataclass(frozen=True)
class ShotMedia:
    """The media a shot is rendered from (files the studio made or the user picked)."""
    shot: Shot
    image: Path | None = None       # the panel (or, for a talking head, the portrait used for an inset fallback)
    video: Path | None = None       # an animated panel or a talking-head MP4
    speech: tuple[Path, ...] = ()   # one per line of the shot, in order
    duration_s: float | None = None  # the user's override of the shot's length


@dataclass(frozen=True)
class RenderInput:
    scene: Scene
    shots: tuple[ShotMedia, ...]
    music: Path | None = None
    book: Book | None = None        # the scene's pages (backend.pages): the motion comic's camera follows them
    # per shot index, the faces in its art (as the book was lettered with): the page crops the art around them
    faces: tuple[tuple[int, ArtFaces], ...] = ()
    # a cast member's picture (name, path): full-frame mode cuts to the speaker on a change of speaker
    portraits: tuple[tuple[str, Path], ...] = ()


@dataclass(frozen=True)
class TimedShot:
    index: int          # Shot.index
    start_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class TimedLine:
    shot_index: int
    line_index: int     # position in Shot.lines
    start_s: float
    end_s: float
    text: str
    character: str


@dataclass(frozen=True)
class Timeline:
    shots: tuple[TimedShot, ...]
    lines: tuple[TimedLine, ...]
    # Shots are back to back (a shot starts where the previous ends, so the total is the sum); the
    # cross-fade between two shots is centred on the cut and lasts this long.
    crossfade_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return max((s.end_s for s in self.shots), default=0.0)


@dataclass(frozen=True)
class RenderResult:
    mp4: Path
    srt: Path
    vtt: Path
    duration_s: float
    timeline: Timeline = field(repr=False)
    mode: str = "full_frame"        # how it was rendered: "motion_comic" (through the pages) or "full_frame"
    warnings: tuple[str, ...] = ()  # for a person: the pages' lettering that does not fit (as the PDF notes it)
