"""Render a scene to one MP4 (H.264 + AAC) with PyAV, plus SRT and WebVTT subtitles.

Streaming: frames are made one at a time and handed to x264 (which encodes on its own threads while we
compose the next frame); only the shots around the current time hold their media, and the audio is mixed
in one-second blocks, so memory stays flat however long the scene is. Frames are composed in the encoder's
own format, yuv420p, as three Pillow "L" planes (`Yuv`): a Ken Burns frame is one swscale call (crop view
→ scaled and converted together), video frames are scaled by swscale without a round trip through RGB,
cross-fades are `Image.blend` per plane and captions/subtitles masked `paste`s of boxes converted once.
A frame that did not change (a held video frame, a still, a card) is the same object, so neither its
overlays nor its conversion for the encoder are redone. numpy does the audio.

The package, one job a module: `scene` (render_scene: prepare, time, mix, encode, write the files),
`media` (reading and checking the input), `fullframe` (full-frame mode's frames), `clips` (the moving
pictures of a shot), `compose` (yuv420p frames and their operations), `text` (text boxes), `audio`
(decoding and the mix), `subtitles` (SRT, WebVTT), `encode` (the encoder thread).
"""
from backend.scenes.render.audio import SAMPLE_RATE, Mixer, MusicStream, decode_audio, duck_gain
from backend.scenes.render.clips import probe_video
from backend.scenes.render.errors import RenderError
from backend.scenes.render.scene import render, render_scene
from backend.scenes.render.subtitles import srt_text, vtt_text

__all__ = ["SAMPLE_RATE", "Mixer", "MusicStream", "RenderError", "decode_audio", "duck_gain", "probe_video",
           "render", "render_scene", "srt_text", "vtt_text"]
