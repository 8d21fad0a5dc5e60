"""The encoder: H.264 + AAC, a mov_text subtitle track and chapters, muxed on a thread of its own."""
from __future__ import annotations

import queue
import threading
import time
from fractions import Fraction

import av
import numpy as np

from backend.scenes.render.audio import SAMPLE_RATE, Mixer
from backend.scenes.render.compose import Yuv, to_frame
from backend.scenes.render.subtitles import ASS_HEADER, Cue, ass_dialogue

X264_PRESET = "superfast"   # about half veryfast's cost here; the pictures move slowly, so quality holds
X264_CRF = "21"
MS = Fraction(1, 1000)


def add_text_tracks(container, cues: list[Cue], chapters: list[tuple[float, float, str]]):
    """A soft subtitle track (mov_text: what MP4 players show as subtitles) and the chapters, before the
    first packet is written. Returns the subtitle stream (None without cues)."""
    if chapters:
        container.set_chapters([{"id": i + 1, "start": round(a * 1000), "end": round(b * 1000), "time_base": MS,
                                 "metadata": {"title": title}} for i, (a, b, title) in enumerate(chapters)])
    if not cues:
        return None
    stream = container.add_stream("mov_text")
    stream.time_base = MS
    stream.metadata["handler_name"] = "Dialogue"
    stream.codec_context.subtitle_header = ASS_HEADER
    return stream


class FrameOut:
    """What both render loops do with a composed frame: burn in the subtitles (if asked), count the composing
    CPU time, hand it to the encoder, and report progress every quarter second and on each new shot (so a short
    shot is not skipped). `say(t, shot, page)` words the progress line (page: None outside the pages)."""

    def __init__(self, encoder: "Encoder", n_frames: int, burn, progress, say):
        self.encoder, self.n_frames, self.burn, self.progress, self.say = encoder, n_frames, burn, progress, say
        self.last_report, self.reported = 0.0, None
        self.cpu0 = time.thread_time()

    def put(self, k: int, t: float, img: Yuv, shot: int, page: int | None = None) -> None:
        if self.burn is not None:
            img = self.burn.over(img, t)
        self.encoder.stats["compose_s"] += time.thread_time() - self.cpu0
        self.encoder.put(k, img)
        self.cpu0 = time.thread_time()
        now = time.monotonic()
        if now - self.last_report > 0.25 or k == self.n_frames - 1 or shot != self.reported:
            self.last_report, self.reported = now, shot
            self.progress(0.05 + 0.93 * (k + 1) / self.n_frames, self.say(t, shot, page))


class Encoder:
    """Encodes and muxes on a thread of its own, so the next frame is composed while this one is
    converted and encoded (Pillow and PyAV let go of the GIL while they work). Audio follows the video
    in the same thread, so the two streams interleave in the file."""

    def __init__(self, container, vstream, astream, mixer: Mixer, fps: int, total_samples: int,
                 sstream=None, cues: list[Cue] = ()):
        self.container, self.vstream, self.astream, self.mixer = container, vstream, astream, mixer
        self.sstream, self.cues, self.cue_pos = sstream, list(cues) if sstream is not None else [], 0
        self.fps, self.total_samples = fps, total_samples
        self.audio_pos = 0
        # CPU seconds of each stage (thread CPU time: honest on a busy machine); x264's own threads not included
        self.stats = {"compose_s": 0.0, "convert_s": 0.0, "encode_s": 0.0, "audio_s": 0.0}
        self.q: queue.Queue = queue.Queue(maxsize=6)
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="scene-encoder", daemon=True)
        self.thread.start()

    def put(self, k: int, img: Yuv):
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.q.put((k, img), timeout=0.5)
                return
            except queue.Full:
                continue

    def _audio(self, upto: int):
        c0 = time.thread_time()
        while self.audio_pos < upto:
            n = min(SAMPLE_RATE, upto - self.audio_pos)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(self.mixer.block(self.audio_pos, n)),
                                               format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = SAMPLE_RATE, self.audio_pos
            for packet in self.astream.encode(frame):
                self.container.mux(packet)
            self.audio_pos += n
        self.stats["audio_s"] += time.thread_time() - c0

    def _subtitles(self, upto_s: float):
        """The cues starting before `upto_s`, in order (so they interleave with the picture)."""
        while self.cue_pos < len(self.cues) and self.cues[self.cue_pos].start_s <= upto_s:
            cue = self.cues[self.cue_pos]
            start, dur = round(cue.start_s * 1000), max(1, round((cue.end_s - cue.start_s) * 1000))
            packet = self.sstream.codec_context.encode_subtitle(
                av.subtitles.subtitle.SubtitleSet.create(ass_dialogue(cue), 0, dur, start))
            packet.stream, packet.time_base = self.sstream, MS
            packet.pts = packet.dts = start
            packet.duration = dur
            self.container.mux(packet)
            self.cue_pos += 1

    def _run(self):
        last_img = frame = None
        try:
            while True:
                try:
                    item = self.q.get(timeout=0.5)
                except queue.Empty:
                    if self.cancelled:
                        return
                    continue
                if item is None or self.cancelled:
                    if self.cancelled:
                        return
                    break
                k, img = item
                c0 = time.thread_time()
                if img is not last_img:     # a frame that did not change is not converted again
                    last_img, frame = img, to_frame(img)
                frame.pts = k
                c1 = time.thread_time()
                for packet in self.vstream.encode(frame):
                    self.container.mux(packet)
                self.stats["convert_s"] += c1 - c0
                self.stats["encode_s"] += time.thread_time() - c1
                self._audio(min(self.total_samples, round((k + 1) / self.fps * SAMPLE_RATE)))
                self._subtitles((k + 1) / self.fps)
            self._audio(self.total_samples)
            self._subtitles(float("inf"))
            for packet in self.vstream.encode():
                self.container.mux(packet)
            for packet in self.astream.encode():
                self.container.mux(packet)
        except BaseException as e:  # handed to the composing thread
            self.error = e
            while True:     # unblock a producer waiting on a full queue
                try:
                    self.q.get_nowait()
                except queue.Empty:
                    break

    def finish(self):
        while True:
            if self.error is not None:
                raise self.error
            try:
                self.q.put(None, timeout=0.5)
                break
            except queue.Full:
                continue
        self.thread.join()
        if self.error is not None:
            raise self.error

    def stop(self):
        """Give up (the render failed elsewhere): the thread ends without touching the file again."""
        self.cancelled = True
        self.thread.join(timeout=30)
