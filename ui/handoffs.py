"""Every hand-off between tabs, in one place: what a "Use in …" button sends where."""
from __future__ import annotations

from typing import Any

import gradio as gr

from ui import roles
from ui.cast import CastTab, new_character
from ui.jobrun import PRIVATE
from ui.portrait import PortraitTab
from ui.talking_head import TalkingHeadTab
from ui.voice import VoiceTab, voice_names

TALKING_HEAD_TAB = "talking_head"
TALKING_HEAD_LABEL = "Talking head"
NO_PORTRAIT = "⚠ No portrait chosen yet: make one above (or click one in the gallery), then send it."
NO_PORTRAIT_CAST = ("⚠ No portrait chosen yet: make one above (or click one in the gallery), then add it to the "
                    "cast.")
NO_VOICE_CAST = "⚠ No voice picked in the library yet: save one or pick one above, then add it to the cast."
NO_SPEECH = "⚠ No speech yet: make speech with the script above first, then send it."


def send(path: str | None, missing: str) -> tuple:
    """(target value, tab switch, note): with nothing to send, stay here and say what to do instead."""
    if not path:
        return gr.skip(), gr.skip(), missing
    return path, gr.Tabs(selected=TALKING_HEAD_TAB), ""


def wire(studio: Any, tabs: gr.Tabs, portrait: PortraitTab, voice: VoiceTab, talking_head: TalkingHeadTab) -> None:
    # Portrait → Talking head: the picked gallery image (the first one when none was picked) becomes the portrait.
    portrait.use.click(lambda path: send(path, NO_PORTRAIT), inputs=[portrait.selected],
                       outputs=[talking_head.image, tabs, portrait.use_note], queue=False, **PRIVATE)
    # Voice → Talking head: the generated speech becomes the speech to lip-sync.
    voice.use.click(lambda path: send(path, NO_SPEECH), inputs=[voice.speech],
                    outputs=[talking_head.audio, tabs, voice.use_note], queue=False, **PRIVATE)
    # Opening the Talking head tab lists what the other tabs made since.
    @roles.reader
    def on_tab(evt: gr.SelectData) -> tuple:
        if evt.value in (TALKING_HEAD_TAB, TALKING_HEAD_LABEL) or getattr(evt, "id", None) == TALKING_HEAD_TAB:
            return talking_head.refresh()
        return tuple(gr.skip() for _ in talking_head.refresh_outputs)

    tabs.select(on_tab, outputs=talking_head.refresh_outputs, queue=False, show_progress="hidden", **PRIVATE)
    # A voice saved in the Voice tab is offered by the pipeline at once.
    voice.voices.change(roles.reader(lambda _v: gr.update(choices=voice_names(studio))), inputs=[voice.voices],
                        outputs=[talking_head.voices], queue=False, **PRIVATE)


CAST_TAB = "cast"


def wire_cast(studio: Any, tabs: gr.Tabs, portrait: PortraitTab, voice: VoiceTab, cast: CastTab,
              portrait_add: gr.Button, voice_add: gr.Button) -> None:
    """"Add to cast": the chosen portrait, or the voice picked in the voice library, starts a new character."""
    # With nothing chosen, stay on this tab and say so here (not on the Cast tab, out of sight).
    def add(missing: str, **what: str | None) -> tuple:
        if not any(what.values()):
            return (*(gr.skip() for _ in cast.editor), gr.skip(), missing)
        return (*new_character(studio, **what), gr.Tabs(selected=CAST_TAB), "")

    portrait_add.click(lambda path: add(NO_PORTRAIT_CAST, portrait=path), inputs=[portrait.selected],
                       outputs=[*cast.editor, tabs, portrait.use_note], **PRIVATE)
    voice_add.click(lambda name: add(NO_VOICE_CAST, voice=name), inputs=[voice.voices],
                    outputs=[*cast.editor, tabs, voice.use_note], **PRIVATE)
