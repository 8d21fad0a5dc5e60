"""Named voices (a reference recording and its transcript), kept so a cloned voice can be reused by name."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from backend.errors import InputError
from backend.history import History
from backend.library import Library

_NAME = re.compile(r"^[\w][\w .'-]{0,63}$")


@dataclass(frozen=True)
class Voice:
    name: str
    audio_path: str
    transcript: str
    created_at: float


class VoiceLibrary:
    def __init__(self, history: History, library: Library):
        self._history = history
        self._library = library

    def save(self, name: str, audio_path: str, transcript: str) -> Voice:
        name = (name or "").strip()
        if not _NAME.match(name):
            raise InputError("name", "must be 1–64 characters: letters, digits, spaces, '.', \"'\", '-' or '_', "
                                     "starting with a letter or digit")
        if not isinstance(transcript, str) or not transcript.strip():
            raise InputError("transcript", "is required: the words spoken in the recording")
        if len(transcript) > 2000:
            raise InputError("transcript", f"is {len(transcript)} characters; at most 2000 are allowed")
        path, mt = self._library.keep_input("audio", audio_path)
        if mt.kind != "audio":
            raise InputError("audio", f"is {mt.mime}, not an audio file (WAV, MP3, FLAC or OGG)")
        voice = Voice(name=name, audio_path=path, transcript=transcript.strip(), created_at=time.time())
        self._history.put_voice(voice.name, voice.audio_path, voice.transcript, voice.created_at)
        return voice

    def list(self) -> list[Voice]:
        return [Voice(**row) for row in self._history.voice_rows()]

    def get(self, name: str) -> Voice | None:
        return next((v for v in self.list() if v.name == name), None)

    def delete(self, name: str) -> bool:
        return self._history.delete_voice(name)
