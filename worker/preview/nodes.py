"""Small evaluators, one per node class, that turn input values into abstract output values and UI outputs."""
from __future__ import annotations

import random
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import soundfile as sf
from PIL import Image

from . import faces, loading, render
from .datadir import DataDir
from .schemas import NodeSchema
from .values import Audio, Cond, Img, Latent, Mask, Ref, Thing, Video, source_of


class NodeError(Exception):
    """An error a real node would raise; carries the Python exception type name ComfyUI reports."""

    def __init__(self, exception_type: str, message: str, frames: list[str] | None = None):
        super().__init__(message)
        self.exception_type = exception_type
        self.frames = frames or []   # the node's own traceback lines, after ComfyUI's execution.py frames


@dataclass
class Ctx:
    node_id: str
    class_type: str
    inputs: dict[str, Any]
    schema: NodeSchema
    data: DataDir
    steps: Callable[[int], Awaitable[None]]   # report a progress bar of n steps (sleeps --step-delay per step)

    def get(self, name: str, default: Any = None) -> Any:
        return self.inputs.get(name, default)


Result = tuple[tuple, dict | None]
Evaluator = Callable[[Ctx], Awaitable[Result]]
EVALUATORS: dict[str, Evaluator] = {}


def node(*names: str):
    def deco(fn: Evaluator) -> Evaluator:
        for n in names:
            EVALUATORS[n] = fn
        return fn
    return deco


async def passthrough(ctx: Ctx) -> Result:
    """Unknown-but-valid classes: the first input (linked or not) goes to every output."""
    first = next(iter(ctx.inputs.values()), None)
    src = source_of(*ctx.inputs.values())
    outs = []
    for typ in ctx.schema.output:
        if isinstance(first, Thing) and first.source is None and src is not None and _fits(first, typ):
            # A model patched by a node fed the reference image (AnimateLCM-I2V's ref_latent) carries that
            # picture on, or the sampler downstream would draw a stand-in face instead of the uploaded panel.
            outs.append(Thing(first.kind, src, dict(first.info)))
        elif first is not None and _fits(first, typ):
            outs.append(first)
        else:
            outs.append(Thing(typ, src))
    return tuple(outs), None


def _fits(value: Any, typ: str) -> bool:
    want = {"IMAGE": Img, "LATENT": Latent, "AUDIO": Audio, "VIDEO": Video, "CONDITIONING": Cond}.get(typ)
    return isinstance(value, want) if want else isinstance(value, Thing)


# ---- loaders -----------------------------------------------------------------------------------------
@node("CheckpointLoaderSimple", "CheckpointLoader", "ImageOnlyCheckpointLoader", "unCLIPCheckpointLoader")
async def load_checkpoint(ctx: Ctx) -> Result:
    return tuple(Thing(t, info={"file": ctx.get("ckpt_name")}) for t in ctx.schema.output), None


@node("CLIPTextEncode")
async def clip_text(ctx: Ctx) -> Result:
    return (Cond(str(ctx.get("text", ""))),), None


@node("TextEncodeAceStepAudio")
async def ace_text(ctx: Ctx) -> Result:
    return (Cond(f"{ctx.get('tags', '')} {ctx.get('lyrics', '')}".strip()),), None


@node("ConditioningZeroOut")
async def zero_out(ctx: Ctx) -> Result:
    return (Cond(""),), None


@node("EmptyImage")
async def empty_image(ctx: Ctx) -> Result:
    return (Img(ctx.get("width"), ctx.get("height"), ctx.get("batch_size", 1), color=ctx.get("color", 0)),), None


@node("EmptyLatentImage", "EmptySD3LatentImage", "EmptyHunyuanLatentVideo")
async def empty_latent(ctx: Ctx) -> Result:
    return (Latent(ctx.get("width", 512), ctx.get("height", 512), ctx.get("batch_size", 1)),), None


@node("EmptyAceStepLatentAudio", "EmptyLatentAudio")
async def empty_audio_latent(ctx: Ctx) -> Result:
    return (Latent(batch=ctx.get("batch_size", 1), seconds=float(ctx.get("seconds", 47.6))),), None


@node("LoadImage", "LoadImageMask")
async def load_image(ctx: Ctx) -> Result:
    path = ctx.data.resolve_annotated(str(ctx.get("image")))
    try:
        with Image.open(path) as im:   # Pillow's own error (PIL.UnidentifiedImageError), as ComfyUI's LoadImage
            w, h = im.size
    except OSError as exc:
        raise NodeError(_type_name(exc), str(exc), [
            '  File "/comfyui/nodes.py", line 1699, in load_image\n',
            '  File "/comfyui/node_helpers.py", line 21, in pillow\n']) from exc
    img = Img(w, h, 1, source=path, channels=3)
    mask = Img(w, h, 1, channels=1)
    if ctx.class_type == "LoadImageMask":
        return (mask,), None
    return (img, mask), None


def _type_name(exc: BaseException) -> str:
    module = type(exc).__module__
    return type(exc).__qualname__ if module == "builtins" else f"{module}.{type(exc).__qualname__}"


def read_audio(path: Path) -> Audio:
    """libsndfile where it can (exact samples), else PyAV as ComfyUI 0.3.64's LoadAudio: junk then fails with PyAV's
    own error type and message (transcript d22)."""
    try:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
        return Audio(data, rate)
    except Exception:
        pass
    try:
        with av.open(str(path)) as box:
            stream = box.streams.audio[0]
            chunks = [f.to_ndarray() for f in box.decode(stream)]
            rate = stream.rate
    except (av.FFmpegError, IndexError) as exc:
        raise NodeError(_type_name(exc), str(exc), [
            '  File "/comfyui/comfy_extras/nodes_audio.py", line 333, in load\n',
            '  File "/comfyui/comfy_extras/nodes_audio.py", line 294, in load\n']) from exc
    data = np.concatenate([c if c.ndim == 2 else c[None, :] for c in chunks], axis=1)
    return Audio(data.T.astype(np.float32), rate)


@node("LoadAudio", "VHS_LoadAudioUpload")
async def load_audio(ctx: Ctx) -> Result:
    path = ctx.data.resolve_annotated(str(ctx.get("audio")))
    if path is None or not path.is_file():
        raise NodeError("FileNotFoundError", f"No such file: {ctx.get('audio')}")
    return (read_audio(path),), None


@node("TrimAudioDuration")
async def trim_audio(ctx: Ctx) -> Result:
    a: Audio = ctx.get("audio")
    start = int(float(ctx.get("start_index", 0.0)) * a.rate)
    if start < 0:
        start = max(0, len(a.samples) + start)
    end = start + int(float(ctx.get("duration", 60.0)) * a.rate)
    return (Audio(a.samples[start:end], a.rate),), None


# ---- images ------------------------------------------------------------------------------------------
@node("ImageScale")
async def image_scale(ctx: Ctx) -> Result:
    img: Img = ctx.get("image")
    w, h = ctx.get("width", 0) or img.width, ctx.get("height", 0) or img.height
    return (img.with_(width=w, height=h),), None


@node("ImageUpscaleWithModel")
async def upscale_with_model(ctx: Ctx) -> Result:
    img: Img = ctx.get("image")
    model: Thing = ctx.get("upscale_model")
    name = str((model.info if isinstance(model, Thing) else {}).get("file", "")).lower()
    scale = 4 if ("4x" in name or "x4" in name) else 2
    # Tiled like ComfyUI: 512-pixel tiles with 32 pixels of overlap, one progress step per tile.
    tiles = -(-img.height // 480) * -(-img.width // 480)
    await ctx.steps(tiles * img.count)
    return (img.with_(width=img.width * scale, height=img.height * scale),), None


@node("UpscaleModelLoader")
async def upscale_loader(ctx: Ctx) -> Result:
    return (Thing("UPSCALE_MODEL", info={"file": ctx.get("model_name")}),), None


@node("ImageToMask")
async def image_to_mask(ctx: Ctx) -> Result:
    img: Img = ctx.get("image")
    index = ["red", "green", "blue", "alpha"].index(ctx.get("channel", "red"))
    if index >= img.channels:
        raise NodeError("IndexError", f"index {index} is out of bounds for dimension 3 with size {img.channels}")
    return (img.with_(channels=1),), None


@node("MaskToImage")
async def mask_to_image(ctx: Ctx) -> Result:
    return (ctx.get("mask").with_(channels=3),), None


@node("VAEEncode", "ADE_UpscaleAndVAEEncode")
async def vae_encode(ctx: Ctx) -> Result:
    img: Img = ctx.get("pixels") or ctx.get("image")
    size: Latent | None = ctx.get("latent_size")
    if size is not None:
        return (Latent(size.width, size.height, size.batch, source=img.source),), None
    return (Latent(img.width, img.height, img.count, source=img.source),), None


@node("RepeatLatentBatch")
async def repeat_latent(ctx: Ctx) -> Result:
    lat: Latent = ctx.get("samples")
    return (Latent(lat.width, lat.height, lat.batch * int(ctx.get("amount", 1)), lat.caption, lat.seed, lat.seconds,
                   lat.source),), None


@node("SVD_img2vid_Conditioning")
async def svd_cond(ctx: Ctx) -> Result:
    img: Img = ctx.get("init_image")
    frames = int(ctx.get("video_frames", 14))
    cond = Cond("", img.source, frames)
    return (cond, Cond("", img.source, frames), Latent(ctx.get("width"), ctx.get("height"), frames,
                                                       source=img.source)), None


@node("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")
async def ksampler(ctx: Ctx) -> Result:
    await ctx.steps(int(ctx.get("steps", 20)))
    lat: Latent = ctx.get("latent_image") or Latent()
    pos = ctx.get("positive")
    caption = pos.text if isinstance(pos, Cond) else ""
    seed = ctx.get("seed", ctx.get("noise_seed"))
    src = lat.source or source_of(ctx.get("model"), pos)
    model = ctx.get("model")
    refs = tuple(model.info.get("references", ())) if isinstance(model, Thing) else ()
    return (Latent(lat.width, lat.height, lat.batch, caption, seed, lat.seconds, src, refs),), None


@node("VAEDecode", "VAEDecodeTiled")
async def vae_decode(ctx: Ctx) -> Result:
    lat: Latent = ctx.get("samples")
    motion = "panzoom" if lat.batch > 1 else None
    return (Img(lat.width, lat.height, lat.batch, lat.caption, lat.seed, None, lat.source, motion, refs=lat.refs),), None


@node("VAEDecodeAudio")
async def vae_decode_audio(ctx: Ctx) -> Result:
    lat: Latent = ctx.get("samples")
    seconds = lat.seconds or 10.0
    return (Audio(render.music(seconds, lat.seed or 0), render.MUSIC_RATE),), None


# ---- masks (computed exactly, so the regions they give IP-Adapter can be drawn) ---------------------------
def _mask(value: Any) -> Mask:
    if isinstance(value, Mask):
        return value
    if isinstance(value, Img):                 # a loaded image's alpha mask: treat it as all ones
        return Mask(np.ones((value.height, value.width), dtype=np.float32))
    return Mask(np.ones((64, 64), dtype=np.float32))


@node("SolidMask")
async def solid_mask(ctx: Ctx) -> Result:
    h, w = int(ctx.get("height", 512)), int(ctx.get("width", 512))
    return (Mask(np.full((h, w), float(ctx.get("value", 1.0)), dtype=np.float32)),), None


@node("InvertMask")
async def invert_mask(ctx: Ctx) -> Result:
    return (Mask(1.0 - _mask(ctx.get("mask")).values),), None


_MASK_OPS = {
    "multiply": lambda d, s: d * s, "add": lambda d, s: d + s, "subtract": lambda d, s: d - s,
    "and": lambda d, s: ((d > 0.5) & (s > 0.5)).astype(np.float32),
    "or": lambda d, s: ((d > 0.5) | (s > 0.5)).astype(np.float32),
    "xor": lambda d, s: ((d > 0.5) ^ (s > 0.5)).astype(np.float32),
}


@node("MaskComposite")
async def mask_composite(ctx: Ctx) -> Result:
    """ComfyUI's MaskComposite: the source placed at (x, y) on a copy of the destination, clipped, then 0..1."""
    dst = _mask(ctx.get("destination")).values.copy()
    src = _mask(ctx.get("source")).values
    x, y = int(ctx.get("x", 0)), int(ctx.get("y", 0))
    h, w = dst.shape
    sh, sw = max(0, min(src.shape[0], h - y)), max(0, min(src.shape[1], w - x))
    op = _MASK_OPS[str(ctx.get("operation", "multiply"))]
    dst[y:y + sh, x:x + sw] = op(dst[y:y + sh, x:x + sw], src[:sh, :sw])
    return (Mask(np.clip(dst, 0.0, 1.0)),), None


# ---- IP-Adapter (cubiq/ComfyUI_IPAdapter_plus) ---------------------------------------------------------
@node("CLIPVisionLoader")
async def clip_vision_loader(ctx: Ctx) -> Result:
    return (Thing("CLIP_VISION", info={"file": ctx.get("clip_name")}),), None


@node("IPAdapterModelLoader")
async def ipadapter_loader(ctx: Ctx) -> Result:
    return (Thing("IPADAPTER", info={"file": ctx.get("ipadapter_file")}),), None


@node("PrepImageForClipVision")
async def prep_for_clip_vision(ctx: Ctx) -> Result:
    img: Img = ctx.get("image")
    return (img.with_(width=224, height=224, crop=str(ctx.get("crop_position", "center"))),), None


@node("IPAdapterAdvanced", "IPAdapter")
async def ipadapter_apply(ctx: Ctx) -> Result:
    """The model now carries one more reference: its picture, its region (the mask's box) and its weight."""
    model = ctx.get("model")
    img: Img = ctx.get("image")
    mask = ctx.get("attn_mask")
    box = _mask(mask).box() if mask is not None else (0.0, 0.0, 1.0, 1.0)
    info = dict(model.info) if isinstance(model, Thing) else {}
    if box is not None:
        ref = Ref(img.source, tuple(float(v) for v in box), float(ctx.get("weight", 1.0)), img.crop or "center")
        info["references"] = (*info.get("references", ()), ref)
    return (Thing("MODEL", getattr(model, "source", None), info),), None


# ---- custom packs ------------------------------------------------------------------------------------
@node("F5TTSAudioInputs", "F5TTSAudio", "F5TTSAudioAdvanced")
async def f5tts(ctx: Ctx) -> Result:
    try:
        loading.check_f5tts(ctx.data.root / "models", str(ctx.get("model", "F5v1")), str(ctx.get("vocoder", "auto")))
    except loading.LoadError as exc:
        raise NodeError(exc.exception_type, str(exc), exc.frames) from None
    text = str(ctx.get("speech", ""))
    await ctx.steps(max(4, min(32, len(text) // 8)))
    speed = float(ctx.get("speed", 1.0) or 1.0)
    return (Audio(render.speech(text, speed), render.SPEECH_RATE),), None


@node("SONICTLoader")
async def sonic_loader(ctx: Ctx) -> Result:
    return (Thing("MODEL_SONIC"), Thing("DTYPE", info={"dtype": ctx.get("dtype")})), None


SONIC_FILES = ("audio2bucket.pth", "audio2token.pth", "yoloface_v5m.pt")
_SONIC = '  File "/comfyui/custom_nodes/ComfyUI_Sonic/'


@node("SONIC_PreData")
async def sonic_predata(ctx: Ctx) -> Result:
    img: Img = ctx.get("image")
    audio: Audio = ctx.get("audio")
    sonic = ctx.data.root / "models" / "sonic"
    if not all((sonic / f).is_file() for f in SONIC_FILES):
        raise NodeError("Exception", "Please download the model first",
                        [f'{_SONIC}sonic_node.py", line 141, in sampler_main\n'])
    # SONIC crops the face its detector finds; with none, its preprocess_face reads a variable it never set.
    box = faces.face_in(base_still(img))
    if box is None:
        raise NodeError("UnboundLocalError",
                        "cannot access local variable 'bbox_s' where it is not associated with a value",
                        [f'{_SONIC}sonic_node.py", line 190, in sampler_main\n',
                         f'{_SONIC}sonic.py", line 82, in preprocess_face\n'])
    seconds = min(float(ctx.get("duration", 10.0)), audio.seconds)
    return (Thing("SONIC_PREDATA", img.source, {"image": img, "seconds": seconds, "audio": audio, "face": box}),), None


@node("SONICSampler")
async def sonic_sampler(ctx: Ctx) -> Result:
    data: Thing = ctx.get("data_dict")
    await ctx.steps(int(ctx.get("inference_steps", 25)))
    fps = float(ctx.get("fps", 25.0))
    img: Img = data.info["image"]
    frames = max(1, int(round(data.info["seconds"] * fps)))
    # The preview mouth opens with the speech's loudness, frame by frame.
    mouth = render.loudness(data.info["audio"].samples, data.info["audio"].rate, fps, frames)
    return (img.with_(count=frames, motion="talk", seed=ctx.get("seed"), face=data.info["face"],
                      mouth=tuple(mouth)), fps), None


@node("CreateVideo")
async def create_video(ctx: Ctx) -> Result:
    return (Video(ctx.get("images"), float(ctx.get("fps", 30.0)), ctx.get("audio")),), None


# ---- output nodes ------------------------------------------------------------------------------------
def base_still(img: Img) -> Image.Image:
    """The unmarked picture a node sees: the input image, a sampler's stand-in portrait, or a flat/gradient card."""
    portrait = img.source is None and img.color is None and img.seed is not None
    return render.base_image(img.width, img.height, img.color, img.source, portrait_seed=img.seed if portrait else None)


def frames_of(img: Img) -> list[Image.Image]:
    base = base_still(img)
    if img.refs:
        base = render.place_references(base, img.refs)
    if img.motion is None:
        still = render.mark(base, img.caption, img.seed)
        return [still] * img.count
    if img.motion == "talk":
        return [render.mark(render.talking_frame(base, img.face, img.mouth[i] if img.mouth else 0.0),
                            img.caption, img.seed) for i in range(img.count)]
    if img.motion == "panzoom":
        return [render.mark(render.push_in(base, i, img.count), img.caption, img.seed) for i in range(img.count)]
    still = render.mark(base, img.caption, img.seed)
    return [render.moving_frame(still, i, img.count, img.motion) for i in range(img.count)]


def _entry(path: Path, sub: str, kind: str) -> dict:
    return {"filename": path.name, "subfolder": sub, "type": kind}


def _temp_prefix() -> str:
    return "ComfyUI_temp_" + "".join(random.choice(string.ascii_lowercase) for _ in range(5))


@node("SaveImage", "PreviewImage")
async def save_image(ctx: Ctx) -> Result:
    img: Img = ctx.get("images")
    kind = "output" if ctx.class_type == "SaveImage" else "temp"
    prefix = ctx.get("filename_prefix", "ComfyUI") if kind == "output" else _temp_prefix()
    folder, fname, sub, counter = ctx.data.save_path(prefix, kind)
    out = []
    for i, frame in enumerate(frames_of(img)):
        path = folder / f"{fname}_{counter + i:05}_.png"
        frame.save(path, "PNG")
        out.append(_entry(path, sub, kind))
    return (), {"images": out}


@node("SaveImageWebsocket")
async def save_image_ws(ctx: Ctx) -> Result:
    img: Img = ctx.get("images")
    return (), {"__binary_images__": [render.png_bytes(f) for f in frames_of(img)]}


@node("SaveAudio", "SaveAudioMP3", "SaveAudioOpus", "PreviewAudio")
async def save_audio(ctx: Ctx) -> Result:
    audio: Audio = ctx.get("audio")
    fmt = {"SaveAudio": "flac", "SaveAudioMP3": "mp3", "SaveAudioOpus": "opus", "PreviewAudio": "flac"}[ctx.class_type]
    kind = "temp" if ctx.class_type == "PreviewAudio" else "output"
    prefix = _temp_prefix() if kind == "temp" else ctx.get("filename_prefix", "audio/ComfyUI")
    folder, fname, sub, counter = ctx.data.save_path(prefix, kind)
    path = folder / f"{fname}_{counter:05}_.{fmt}"
    render.write_audio(audio.samples, audio.rate, path, fmt)
    return (), {"audio": [_entry(path, sub, kind)]}


@node("SaveVideo", "SaveWEBM")
async def save_video(ctx: Ctx) -> Result:
    if ctx.class_type == "SaveWEBM":
        video = Video(ctx.get("images"), float(ctx.get("fps", 24.0)))
        ext = "webm"
    else:
        video = ctx.get("video")
        ext = "webm" if ctx.get("format") == "webm" else "mp4"
    folder, fname, sub, counter = ctx.data.save_path(ctx.get("filename_prefix", "video/ComfyUI"))
    path = folder / f"{fname}_{counter:05}_.{ext}"
    audio = (video.audio.samples, video.audio.rate) if video.audio is not None else None
    render.write_video(frames_of(video.images), video.fps, path, audio)
    return (), {"images": [_entry(path, sub, "output")], "animated": [True]}


@node("SaveAnimatedWEBP", "SaveAnimatedPNG")
async def save_animated(ctx: Ctx) -> Result:
    img: Img = ctx.get("images")
    ext = "webp" if ctx.class_type == "SaveAnimatedWEBP" else "png"
    folder, fname, sub, counter = ctx.data.save_path(ctx.get("filename_prefix", "ComfyUI"))
    path = folder / f"{fname}_{counter:05}_.{ext}"
    render.write_animation(frames_of(img.with_(motion=img.motion or ("panzoom" if img.count > 1 else None))),
                           float(ctx.get("fps", 6.0)), path, ext)
    return (), {"images": [_entry(path, sub, "output")], "animated": [True]}


@node("VHS_VideoCombine")
async def vhs_combine(ctx: Ctx) -> Result:
    img: Img = ctx.get("images")
    await ctx.steps(img.count)
    fps = float(ctx.get("frame_rate", 8))
    fmt = str(ctx.get("format", "image/gif"))
    kind = "output" if ctx.get("save_output", True) else "temp"
    folder, fname, sub, counter = ctx.data.save_path(ctx.get("filename_prefix", "AnimateDiff"), kind)
    frames = frames_of(img.with_(motion=img.motion or "panzoom"))
    png = folder / f"{fname}_{counter:05}.png"
    frames[0].save(png, "PNG")
    audio: Audio | None = ctx.get("audio")
    if fmt.startswith("image/"):
        ext = fmt.split("/")[1]
        path = folder / f"{fname}_{counter:05}.{ext}"
        render.write_animation(frames, fps, path, ext, int(ctx.get("loop_count", 0)))
    else:
        ext = "webm" if "webm" in fmt else "mp4"
        suffix = "-audio" if audio is not None else ""
        path = folder / f"{fname}_{counter:05}{suffix}.{ext}"
        render.write_video(frames, fps, path, (audio.samples, audio.rate) if audio is not None else None)
    entry = {**_entry(path, sub, kind), "format": fmt, "frame_rate": fps, "workflow": png.name,
             "fullpath": str(path)}
    return (), {"gifs": [entry]}
