"""Voice cloning text-to-speech: F5-TTS (niknah/ComfyUI-F5-TTS, `F5TTSAudioInputs`)."""
from __future__ import annotations

from typing import Any

from workflows.catalogue import get_spec
from worker.errors import WorkerError
from worker.jobs.base import Built, MediaFile
from worker.jobs.common import decode_audio, encode_wav, new_node_id, node_id, require_kind, resolve_seed, set_inputs, trim

BEST_MIN_S = 5.0
BEST_MAX_S = 12.0      # F5-TTS clips references at about 12 s itself, possibly mid-word, and leaks longer ones


def node_speed(user_speed: float) -> float:
    """The node's speed is a duration factor (>1 is slower); people expect >1 to be faster, so invert."""
    return round(1.0 / user_speed, 4)


class TTSJob:
    spec = get_spec("tts")

    def preflight(self, values: dict[str, Any], media: dict[str, MediaFile]) -> list[str]:
        ref = require_kind(media, "reference_audio", "audio")
        audio = decode_audio(ref)
        d = audio.duration
        accepted = self.spec.param("reference_audio")          # seconds; the studio checks the same range
        if d < accepted.min:
            raise WorkerError("invalid_input", f"reference_audio: {d:.1f} s is too short to clone a voice; "
                              f"send {BEST_MIN_S:g}–{BEST_MAX_S:g} s of clear speech", field="reference_audio")
        if d > accepted.max:
            raise WorkerError("invalid_input", f"reference_audio: {d:.0f} s is too long for a voice sample; send "
                              f"{BEST_MIN_S:g}–{BEST_MAX_S:g} s of clear speech (at most {accepted.max:g} s; "
                              f"longer than {BEST_MAX_S:g} s is cut)", field="reference_audio")
        warnings = []
        if d > BEST_MAX_S:
            media["reference_audio"] = encode_wav(trim(audio, BEST_MAX_S), "reference_audio")
            warnings.append(f"reference_audio: {d:.1f} s is longer than F5-TTS uses; only the first "
                            f"{BEST_MAX_S:g} s were kept (5–12 s works best)")
            if values.get("reference_text"):
                warnings.append("reference_text: the reference was trimmed, so make sure the transcript covers "
                                "only its first 12 seconds")
        elif d < BEST_MIN_S:
            warnings.append(f"reference_audio: {d:.1f} s is short; 5–12 s of speech clones a voice better")
        return warnings

    def build(self, values: dict[str, Any], uploaded: dict[str, str]) -> Built:
        prompt = self.spec.template(values)
        seed = resolve_seed(values["seed"], int(self.spec.param("seed").max))
        roles = {
            set_inputs(prompt, "LoadAudio", audio=uploaded["reference_audio"]): "loading the reference voice",
            set_inputs(prompt, "TrimAudioDuration", duration=BEST_MAX_S): "trimming the reference",
            set_inputs(prompt, "F5TTSAudioInputs", sample_text=values["reference_text"].strip(),
                       speech=values["text"], seed=seed, speed=node_speed(values["speed"])): "speaking",
        }
        save = node_id(prompt, "SaveAudio")
        fmt = values["format"]
        if fmt in ("mp3", "wav+mp3"):
            mp3 = new_node_id(prompt)
            prompt[mp3] = {"class_type": "SaveAudioMP3", "inputs": {
                "audio": prompt[save]["inputs"]["audio"], "filename_prefix": "audio/tts", "quality": "V0"}}
            roles[mp3] = "saving the MP3"
        if fmt == "mp3":
            del prompt[save]
        else:
            roles[save] = "saving the audio"
        return Built(prompt=prompt, roles=roles, seed=seed, licence=self.spec.licence_for(values))


JOB = TTSJob()
