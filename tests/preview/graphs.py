"""API-format graphs the tests post (the studio's job graphs, as in models-and-workflows.md)."""
from __future__ import annotations


def portrait(prompt: str = "Viking warrior with braided beard", *, width: int = 512, height: int = 768,
             batch: int = 1, steps: int = 4, seed: int = 1234, ckpt: str = "Deliberate_v5.safetensors") -> dict:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": prompt}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "blurry"}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": height, "batch_size": batch}},
        "5": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0],
                                                   "latent_image": ["4", 0], "seed": seed, "steps": steps, "cfg": 6.0,
                                                   "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "portrait"}},
    }


def tts(reference: str, speech: str, *, trim: float = 12.0, saver: str = "SaveAudio") -> dict:
    return {
        "1": {"class_type": "LoadAudio", "inputs": {"audio": reference}},
        "2": {"class_type": "TrimAudioDuration", "inputs": {"audio": ["1", 0], "start_index": 0.0, "duration": trim}},
        "3": {"class_type": "F5TTSAudioInputs", "inputs": {"sample_audio": ["2", 0], "sample_text": "",
                                                           "speech": speech, "seed": -1, "model": "F5v1",
                                                           "vocoder": "auto", "speed": 1.0,
                                                           "model_type": "F5TTS_v1_Base"}},
        "4": {"class_type": saver, "inputs": {"audio": ["3", 0], "filename_prefix": "audio/tts",
                                              **({"quality": "V0"} if saver == "SaveAudioMP3" else {})}},
    }


def lipsync(image: str, audio: str, *, duration: float = 10.0, fps: float = 25.0, steps: int = 3) -> dict:
    return {
        "1": {"class_type": "ImageOnlyCheckpointLoader", "inputs": {"ckpt_name": "svd_xt_1_1.safetensors"}},
        "2": {"class_type": "SONICTLoader", "inputs": {"model": ["1", 0], "sonic_unet": "unet.pth",
                                                       "ip_audio_scale": 1.0, "use_interframe": True, "dtype": "fp16"}},
        "3": {"class_type": "LoadImage", "inputs": {"image": image}},
        "4": {"class_type": "LoadAudio", "inputs": {"audio": audio}},
        "5": {"class_type": "SONIC_PreData", "inputs": {"clip_vision": ["1", 1], "vae": ["1", 2], "audio": ["4", 0],
                                                        "image": ["3", 0], "weight_dtype": ["2", 1],
                                                        "min_resolution": 256, "duration": duration,
                                                        "expand_ratio": 0.5}},
        "6": {"class_type": "SONICSampler", "inputs": {"model": ["2", 0], "data_dict": ["5", 0], "seed": 42,
                                                       "inference_steps": steps, "dynamic_scale": 1.0, "fps": fps}},
        "7": {"class_type": "CreateVideo", "inputs": {"images": ["6", 0], "fps": ["6", 1], "audio": ["4", 0]}},
        "8": {"class_type": "SaveVideo", "inputs": {"video": ["7", 0], "filename_prefix": "video/talking",
                                                    "format": "mp4", "codec": "h264"}},
    }


def animate_svd(image: str, *, frames: int = 12, fps: float = 8.0, width: int = 256, height: int = 144) -> dict:
    return {
        "1": {"class_type": "ImageOnlyCheckpointLoader", "inputs": {"ckpt_name": "svd_xt_1_1.safetensors"}},
        "2": {"class_type": "LoadImage", "inputs": {"image": image}},
        "3": {"class_type": "VideoLinearCFGGuidance", "inputs": {"model": ["1", 0], "min_cfg": 1.0}},
        "4": {"class_type": "SVD_img2vid_Conditioning", "inputs": {
            "clip_vision": ["1", 1], "init_image": ["2", 0], "vae": ["1", 2], "width": width, "height": height,
            "video_frames": frames, "motion_bucket_id": 127, "fps": 6, "augmentation_level": 0.0}},
        "5": {"class_type": "KSampler", "inputs": {"model": ["3", 0], "positive": ["4", 0], "negative": ["4", 1],
                                                   "latent_image": ["4", 2], "seed": 1, "steps": 2, "cfg": 2.5,
                                                   "sampler_name": "euler", "scheduler": "karras", "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "CreateVideo", "inputs": {"images": ["6", 0], "fps": fps}},
        "8": {"class_type": "SaveVideo", "inputs": {"video": ["7", 0], "filename_prefix": "video/panel_svd",
                                                    "format": "mp4", "codec": "h264"}},
    }


def music(seconds: float = 3.0, *, steps: int = 3) -> dict:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ace_step_v1_3.5b.safetensors"}},
        "2": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["1", 0], "shift": 5.0}},
        "3": {"class_type": "LatentOperationTonemapReinhard", "inputs": {"multiplier": 1.0}},
        "4": {"class_type": "LatentApplyOperationCFG", "inputs": {"model": ["2", 0], "operation": ["3", 0]}},
        "5": {"class_type": "TextEncodeAceStepAudio", "inputs": {"clip": ["1", 1], "tags": "calm piano",
                                                                 "lyrics": "[Instrumental]", "lyrics_strength": 0.99}},
        "6": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["5", 0]}},
        "7": {"class_type": "EmptyAceStepLatentAudio", "inputs": {"seconds": seconds, "batch_size": 1}},
        "8": {"class_type": "KSampler", "inputs": {"model": ["4", 0], "positive": ["5", 0], "negative": ["6", 0],
                                                   "latent_image": ["7", 0], "seed": 31, "steps": steps, "cfg": 5.0,
                                                   "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0}},
        "9": {"class_type": "VAEDecodeAudio", "inputs": {"samples": ["8", 0], "vae": ["1", 2]}},
        "10": {"class_type": "SaveAudioMP3", "inputs": {"audio": ["9", 0], "filename_prefix": "audio/music",
                                                        "quality": "V0"}},
    }
