"""What a file is, judged from its first bytes (never from its name or a declared mime type)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MediaType:
    kind: str        # "image" | "audio" | "video"
    mime: str
    extension: str


def sniff(head: bytes) -> MediaType | None:
    """`head` = at least the first 16 bytes. None when the bytes are no media we know."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType("image", "image/png", ".png")
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType("image", "image/jpeg", ".jpg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType("image", "image/webp", ".webp")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return MediaType("image", "image/gif", ".gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return MediaType("audio", "audio/wav", ".wav")
    if head.startswith(b"fLaC"):
        return MediaType("audio", "audio/flac", ".flac")
    if head.startswith(b"OggS"):
        return MediaType("audio", "audio/ogg", ".ogg")
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return MediaType("audio", "audio/mpeg", ".mp3")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return MediaType("audio", "audio/mp4", ".m4a")
        if brand == b"qt  ":
            return MediaType("video", "video/quicktime", ".mov")
        return MediaType("video", "video/mp4", ".mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaType("video", "video/webm", ".webm")
    return None


# What the studio itself makes and therefore the only types an import may bring in and the served folders may
# hand out inline: GIF, QuickTime and M4A are recognised above (an upload may be one) but never leave the studio.
STUDIO_MIMES = frozenset({"image/png", "image/jpeg", "image/webp", "audio/wav", "audio/flac", "audio/mpeg",
                          "audio/ogg", "video/mp4", "video/webm"})
# The names a studio file of each type may carry: a served file's content type is guessed from its name, so a
# name and its bytes must agree (PNG bytes named .html would otherwise be a page).
EXTENSIONS = {"image/png": (".png",), "image/jpeg": (".jpg", ".jpeg"), "image/webp": (".webp",),
              "audio/wav": (".wav",), "audio/flac": (".flac",), "audio/mpeg": (".mp3",),
              "audio/ogg": (".ogg", ".opus", ".oga"), "video/mp4": (".mp4", ".m4v"), "video/webm": (".webm",)}
# Subtitles a scene render writes beside its video: text, so only ever handed out as an attachment.
SUBTITLE_EXTENSIONS = (".srt", ".vtt")
ALLOWED_NAMES = "PNG, JPEG, WebP, WAV, FLAC, MP3, Ogg/Opus, MP4 or WebM"


def _suffix(name: str) -> str:
    return name[name.rfind("."):].lower() if "." in name else ""


def named_media(head: bytes, name: str) -> MediaType | None:
    """The file's type when its bytes are media we know and its name's extension agrees; else None."""
    mt = sniff(head)
    if mt is None:
        return None
    suffix = _suffix(name)
    return mt if suffix in EXTENSIONS.get(mt.mime, (mt.extension,)) else None


def studio_media(head: bytes, name: str) -> MediaType | None:
    """As named_media, and only the types the studio makes (what an import may bring in)."""
    mt = named_media(head, name)
    return mt if mt is not None and mt.mime in STUDIO_MIMES else None


# The books a page export writes (backend/pages/export_*.py), by extension and opening bytes: files to download,
# never shown inline (an EPUB or a PDF can carry scripts of its own).
BOOK_OPENINGS = {".pdf": (b"%PDF-",), ".cbz": (b"PK\x03\x04",), ".epub": (b"PK\x03\x04",),
                 ".zip": (b"PK\x03\x04",), ".json": (b"{", b"[")}


def is_book(head: bytes, name: str) -> bool:
    """A page export (PDF, CBZ, EPUB, webtoon .zip, page-model JSON): the extension and the opening agree."""
    suffix = _suffix(name)
    return any(head.lstrip().startswith(o) for o in BOOK_OPENINGS.get(suffix, ()))


def is_subtitles(head: bytes, name: str) -> bool:
    """SRT/WebVTT as a render writes them: the extension and the opening agree (served only as attachments)."""
    suffix = _suffix(name)
    if suffix not in SUBTITLE_EXTENSIONS or b"\x00" in head:
        return False
    text = head.decode("utf-8-sig", "ignore").lstrip()
    return text.startswith("WEBVTT") if suffix == ".vtt" else (text[:1].isdigit() or not text)
