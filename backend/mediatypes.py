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
