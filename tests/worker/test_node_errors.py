"""ComfyUI error bodies (as recorded from ComfyUI 0.3.64) → one sentence per problem, and the right code."""
from __future__ import annotations

from tests.support.recordings import transcript
from worker.node_errors import from_execution, from_validation, missing_model_inputs

SONIC_MISSING = {  # transcript g05: two loaders, empty model folders
    "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
              "details": "", "extra_info": {}},
    "node_errors": {
        "16": {"errors": [{"type": "value_not_in_list", "message": "Value not in list",
                           "details": "ckpt_name: 'svd_xt_1_1.safetensors' not in []",
                           "extra_info": {"input_name": "ckpt_name", "input_config": [[], {}],
                                          "received_value": "svd_xt_1_1.safetensors"}}],
               "dependent_outputs": ["20"], "class_type": "ImageOnlyCheckpointLoader"},
        "14": {"errors": [{"type": "value_not_in_list", "message": "Value not in list",
                           "details": "sonic_unet: 'unet.pth' not in ['none']",
                           "extra_info": {"input_name": "sonic_unet", "input_config": [["none"], {}],
                                          "received_value": "unet.pth"}}],
               "dependent_outputs": ["20"], "class_type": "SONICTLoader"}}}


def test_missing_models_become_model_missing_with_one_sentence_each():
    err = from_validation(SONIC_MISSING, {"16": "lipsync (loading SVD)", "14": "lipsync (loading Sonic)"})
    assert err.code == "model_missing"
    assert err.details["problems"] == [
        "lipsync (loading SVD): checkpoint 'svd_xt_1_1.safetensors' is not on the volume; available: nothing is there",
        "lipsync (loading Sonic): Sonic UNet 'unet.pth' is not on the volume; available: nothing is there"]
    assert err.message.startswith("not provisioned: lipsync (loading SVD)")


def test_abbreviated_option_lists_are_filled_from_the_models_folder():
    body = {"node_errors": {"4": {"class_type": "CheckpointLoaderSimple", "errors": [
        {"type": "value_not_in_list", "message": "Value not in list", "details": "ckpt_name: 'X' not in (list of length 42)",
         "extra_info": {"input_name": "ckpt_name", "input_config": None, "received_value": "X.safetensors"}}]}}}
    assert missing_model_inputs(body) == [("ckpt_name", "checkpoints")]
    err = from_validation(body, {}, {"ckpt_name": ["A.safetensors", "B.safetensors"]})
    assert err.message == ("not provisioned: node 4 (CheckpointLoaderSimple): checkpoint 'X.safetensors' is not on "
                           "the volume; available: A.safetensors, B.safetensors")


def test_non_model_problems_are_validation_failed():
    body = {"node_errors": {"2": {"class_type": "SaveImage", "errors": [
        {"type": "required_input_missing", "message": "Required input is missing", "details": "images",
         "extra_info": {"input_name": "images"}},
        {"type": "value_not_in_list", "message": "Value not in list", "details": "x",
         "extra_info": {"input_name": "upscale_method", "input_config": [["nearest-exact", "bilinear"], {}],
                        "received_value": "bogus"}}]}}}
    err = from_validation(body, {"2": "portrait (saving the image)"})
    assert err.code == "validation_failed"
    assert err.message == ("portrait (saving the image): the required input images is missing; portrait (saving the "
                           "image): upscale_method 'bogus' is not one of nearest-exact, bilinear")


def test_prompt_level_errors_without_node_errors_still_read_as_a_sentence():
    err = from_validation({"error": {"type": "invalid_prompt", "message": "Cannot execute because node Foo does not exist.",
                                     "details": "Node ID '#1'"}, "node_errors": {}}, {})
    assert err.code == "validation_failed"
    assert err.message == "Cannot execute because node Foo does not exist.: Node ID '#1'"


def test_execution_errors_name_the_role_and_spot_models_fetched_at_run_time():
    f5 = from_execution({"node_id": "3", "node_type": "F5TTSAudioInputs",
                         "exception_type": "huggingface_hub.errors.LocalEntryNotFoundError",
                         "exception_message": "An error happened while trying to locate the file on the Hub\n"},
                        {"3": "tts (speaking)"})
    assert f5.code == "model_missing" and f5.message.startswith("not provisioned: tts (speaking) needs a model")
    assert f5.message.endswith("— run `python -m deploy provision --jobs tts`")
    other = from_execution({"node_id": "2", "node_type": "ImageToMask", "exception_type": "IndexError",
                            "exception_message": "index 3 is out of bounds\n"}, {})
    assert other.code == "execution_failed"
    assert other.message == "node 2 (ImageToMask) failed: IndexError: index 3 is out of bounds"


def _recorded_execution_error(name: str) -> dict:
    """The execution_error frame of a recorded real-ComfyUI run (tests/data/comfyui/transcripts)."""
    frames = transcript(name)["ws_messages"]
    return next(m["data"] for m in frames if m.get("type") == "execution_error")


def test_a_hub_download_at_run_time_names_the_repository_and_the_provision_command():
    # g03: F5-TTS fetching its vocoder with the hub unreachable; the traceback shows which loader it was
    data = _recorded_execution_error("g03_f5tts_audioinputs_model_not_downloadable.json")
    err = from_execution(data, {data["node_id"]: "tts (speaking)"})
    assert err.code == "model_missing"
    assert "charactr/vocos-mel-24khz" in err.message and "Hugging Face hub" in err.message
    assert err.message.endswith("— run `python -m deploy provision --jobs tts`")
    assert err.details["repository"] == "charactr/vocos-mel-24khz"
    # transformers' OSError when Whisper (an empty reference transcript) cannot be fetched
    whisper = dict(data, exception_type="OSError", traceback=[
        '  File "/comfyui/custom_nodes/ComfyUI-F5-TTS/F5-TTS/src/f5_tts/infer/utils_infer.py", line 170, in '
        'initialize_asr_pipeline\n'],
        exception_message="We couldn't connect to 'https://huggingface.co' to load the files, and couldn't find "
                          "them in the cached files.\nCheck your internet connection or see how to run the library "
                          "in offline mode at 'https://huggingface.co/docs/transformers/installation#offline-mode'.")
    err = from_execution(whisper, {})           # a raw workflow: no role, the repository still picks the job
    assert err.code == "model_missing" and "openai/whisper-large-v3-turbo" in err.message
    assert "python -m deploy provision --jobs tts" in err.message


def test_sonic_finding_no_face_is_invalid_input_on_the_portrait():
    # the shape of a real execution_error (g03) with what SONIC_PreData raises when its detector finds no face
    data = dict(_recorded_execution_error("g03_f5tts_audioinputs_model_not_downloadable.json"),
                node_id="18", node_type="SONIC_PreData", exception_type="UnboundLocalError",
                exception_message="cannot access local variable 'bbox_s' where it is not associated with a value")
    err = from_execution(data, {"18": "lipsync (finding the face)"})
    assert err.code == "invalid_input" and err.field == "image"
    assert err.message == ("image: no face was found in the portrait; use a front-facing head-and-shoulders image "
                           "where the face fills a good part of the frame")
    other = from_execution(dict(data, exception_message="cannot access local variable 'x'"), {})
    assert other.code == "execution_failed"
