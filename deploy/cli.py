"""`python -m deploy …`: from a RunPod API key to a working endpoint, and a doctor for when it is not."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from deploy import costs, doctor, image, provision, state, status, volume
from deploy import endpoint as ep_mod
from deploy.api import Api, ApiConfig, ApiError
from deploy.console import Aborted, Console


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    p.add_argument("--state", help="state file (default $STUDIO_DEPLOY_STATE or ./.studio-deploy.json)")
    sub = p.add_subparsers(dest="group", required=True)

    def yes(sp):
        sp.add_argument("--yes", "-y", action="store_true", help="do not ask before changing anything")

    vol = sub.add_parser("volume", help="network volumes").add_subparsers(dest="cmd", required=True)
    vc = vol.add_parser("create", help="create the network volume that holds the models")
    vc.add_argument("--name", required=True)
    vc.add_argument("--size", type=int, required=True, help="GB (10–4000)")
    vc.add_argument("--datacenter", required=True, help="e.g. EU-RO-1")
    yes(vc)
    vol.add_parser("list", help="list network volumes")

    img = sub.add_parser("image", help="the worker image").add_subparsers(dest="cmd", required=True)
    ib = img.add_parser("build", help="docker buildx build --platform linux/amd64, tagged with the git commit")
    ib.add_argument("--repository", required=True, help="image name without tag, e.g. ghcr.io/you/studio-worker")
    ib.add_argument("--push", action="store_true", help="push, then check the registry has linux/amd64")
    ib.add_argument("--dockerfile", default="worker/Dockerfile")
    ib.add_argument("--context", default=".")
    yes(ib)
    ic = img.add_parser("check", help="check a pushed image has linux/amd64")
    ic.add_argument("ref")

    sec = sub.add_parser("secret", help="RunPod secrets").add_subparsers(dest="cmd", required=True)
    ss = sec.add_parser("set", help="store $HF_TOKEN as a RunPod secret the endpoint refers to")
    ss.add_argument("--name", default="hf_token")
    ss.add_argument("--from-env", default="HF_TOKEN", help="environment variable holding the value")
    yes(ss)

    ep = sub.add_parser("endpoint", help="the serverless endpoint").add_subparsers(dest="cmd", required=True)
    ec = ep.add_parser("create", help="template + endpoint in one step, then verify the volume is attached")
    ec.add_argument("--name", default="studio")
    ec.add_argument("--image", help="image ref with tag (default: the last `image build --push`)")
    ec.add_argument("--volume", help="network volume id (default: from the state file)")
    ec.add_argument("--datacenter", help="e.g. EU-RO-1 or EUR-IS-1 (default: the volume's data center)")
    ec.add_argument("--gpu-pools", default="ADA_24,AMPERE_48", help=f"comma list of {', '.join(costs.POOL_PRICE_PER_SECOND)}")
    ec.add_argument("--workers-max", type=int, default=3)
    ec.add_argument("--idle-timeout", type=int,
                    help=f"seconds (default {ep_mod.DEFAULT_IDLE_TIMEOUT}; not with --scaler REQUEST_COUNT)")
    ec.add_argument("--flashboot", default="FLASHBOOT", choices=ep_mod.FLASHBOOT)
    ec.add_argument("--scaler", default="QUEUE_DELAY", choices=ep_mod.SCALERS)
    ec.add_argument("--scaler-value", type=int, default=4)
    ec.add_argument("--execution-timeout", type=int, default=1800, help="seconds")
    ec.add_argument("--disk", type=int, default=40, help="container disk GB")
    ec.add_argument("--env", action="append", default=[], help="KEY=VALUE (repeatable)")
    ec.add_argument("--hf-secret", help="RunPod secret name holding HF_TOKEN (default: the one `secret set` made)")
    ec.add_argument("--skip-image-check", action="store_true", help="do not check the image manifest for linux/amd64")
    yes(ec)
    eu = ep.add_parser("update", help="change the image or settings")
    eu.add_argument("--image", help="roll out a new image (a new release; workers switch as they cycle)")
    eu.add_argument("--gpu-pools")
    eu.add_argument("--workers-max", type=int)
    eu.add_argument("--idle-timeout", type=int)
    eu.add_argument("--flashboot", choices=ep_mod.FLASHBOOT)
    eu.add_argument("--execution-timeout", type=int)
    eu.add_argument("--volume", help="attach this network volume (and pin the endpoint to its data center)")
    eu.add_argument("--skip-image-check", action="store_true")
    yes(eu)
    ed = ep.add_parser("delete", help="delete the endpoint and its template (the volume stays)")
    yes(ed)

    pv = sub.add_parser("provision", help="download the models of some jobs onto the volume")
    pv.add_argument("--jobs", required=True, help=f"comma list of {', '.join(provision.ACTIONS)}, or all")
    pv.add_argument("--poll", type=float, default=2.0, help="seconds between status checks")
    yes(pv)

    st = sub.add_parser("status", help="workers and queue")
    st.add_argument("--json", action="store_true")

    dr = sub.add_parser("doctor", help="explain what is wrong, with fixes; exit 1 on any problem")
    dr.add_argument("--json", action="store_true")
    dr.add_argument("--debug-timeout", type=float, default=90, help="seconds to wait for the worker's debug action")
    dr.add_argument("--stuck-after", type=int, default=doctor.STUCK_AFTER_S,
                    help="seconds a worker may be seen initializing (across checks) before it counts as stuck")
    dr.add_argument("--log-seconds", type=float, default=5.0,
                    help="at most this long reading each worker's log stream (it stays open)")
    for sp in (pv, st, dr, eu, ed):
        sp.add_argument("--endpoint-id", help="default: from the state file")
    return p


class Failure(Exception):
    pass


def main(argv: list[str] | None = None, *, env: Mapping[str, str] | None = None, out: TextIO | None = None,
         runner: image.Runner | None = None, sleep: Callable[[float], None] = time.sleep,
         ask: Callable[[str], str] | None = None, interactive: bool | None = None,
         clock: Callable[[], float] = time.time) -> int:
    env = dict(os.environ if env is None else env)
    args = _parser().parse_args(argv)
    secrets = [env.get("RUNPOD_API_KEY", ""), env.get("HF_TOKEN", "")]
    con = Console(out, secrets=secrets, yes=getattr(args, "yes", False), ask=ask, interactive=interactive)
    path = state.state_path(args.state, env)
    runner = runner or image.Runner(env.get("DOCKER") or "docker")
    try:
        st = state.load(path)
        if args.group == "image":
            return _image(args, con, runner, path, st)
        api = Api(ApiConfig.from_env(env), sleep=sleep, on_retry=con.say)
        with api:
            return _COMMANDS[args.group](args, con, api, runner, path, st, env, sleep, clock)
    except Aborted as exc:
        con.say(str(exc))
        return 1
    except (ValueError, ep_mod.VolumeNotAttached, ep_mod.NotApplied, image.ImageError, ApiError, Failure) as exc:
        con.say(f"Error: {exc}")
        return 2 if isinstance(exc, ValueError) else 1


def _endpoint_id(args, st: state.DeployState) -> str:
    eid = getattr(args, "endpoint_id", None) or st.endpoint_id
    if not eid:
        raise Failure("no endpoint yet: run python -m deploy endpoint create (or pass --endpoint-id)")
    return eid


def _volume(args, con, api, runner, path, st, env, sleep, clock) -> int:
    if args.cmd == "list":
        vols = volume.list_all(api)
        for v in vols:
            con.say(f"{v.id}  {v.name}  {v.size_gb} GB  {v.datacenter}{'  (in state)' if v.id == st.volume_id else ''}")
        if not vols:
            con.say("No network volumes.")
        return 0
    volume.check_request(args.name, args.size, args.datacenter)
    con.plan(f"Will create network volume {args.name!r}: {args.size} GB in {args.datacenter}.",
             [f"It costs ${args.size * costs.VOLUME_PRICE_PER_GB_MONTH:.2f}/month whether used or not."])
    v = volume.create(api, args.name, args.size, args.datacenter)
    st.volume_id, st.volume_name, st.volume_size_gb, st.datacenter = v.id, v.name, v.size_gb, v.datacenter
    state.save(path, st)
    con.say(f"Created network volume {v.id} ({v.size_gb} GB in {v.datacenter}); saved to {path}.")
    return 0


def _image(args, con, runner, path, st) -> int:
    if args.cmd == "check":
        found = image.check_manifest(runner, args.ref)
        con.say(f"{args.ref} has {', '.join(sorted(found))}: OK for RunPod.")
        return 0
    repo = image.check_repository(args.repository)
    ref = f"{repo}:{image.git_tag()}"
    cmd = image.build_args(ref, args.dockerfile, args.context, args.push)
    con.plan(f"Will build {ref} for {image.PLATFORM}{' and push it' if args.push else ''}:",
             [f"{runner.program} {' '.join(cmd)}"])
    res = runner.run(cmd, stream=True)
    if res.returncode != 0:
        raise image.ImageError(f"docker buildx build failed (exit {res.returncode}); see its output above")
    if args.push:
        found = image.check_manifest(runner, ref)
        st.image = ref
        state.save(path, st)
        con.say(f"Pushed {ref} ({', '.join(sorted(found))}); saved to {path}.")
    else:
        con.say(f"Built {ref} locally (not pushed; RunPod needs --push).")
    return 0


def _secret(args, con, api, runner, path, st, env, sleep, clock) -> int:
    value = env.get(args.from_env, "")
    if not value:
        raise ValueError(f"--from-env: ${args.from_env} is empty; export the token first")
    ep_mod.check_secret_name(args.name, "--name")
    con.plan(f"Will store ${args.from_env} as RunPod secret {args.name!r} (the value is never printed).",
             [f"The endpoint gets HF_TOKEN={ep_mod.secret_ref(args.name)}"])
    via = ep_mod.set_secret(api, args.name, value)
    st.hf_secret = args.name
    state.save(path, st)
    con.say(f"Stored secret {args.name!r} (through RunPod's {via} API).")
    return 0


def _check_image(runner, ref: str, skip: bool, con) -> None:
    if skip:
        con.say(f"Not checking {ref} for linux/amd64 (--skip-image-check).")
        return
    try:
        image.check_manifest(runner, ref)
    except image.ImageError as exc:
        if "was not found" in str(exc):
            raise image.ImageError(f"cannot check {ref} for linux/amd64 without docker ({exc}); "
                                   f"pass --skip-image-check if you are sure") from None
        raise


def _endpoint(args, con, api, runner, path, st, env, sleep, clock) -> int:
    if args.cmd == "create":
        return _endpoint_create(args, con, api, runner, path, st)
    eid = _endpoint_id(args, st)
    if args.cmd == "delete":
        con.plan(f"Will delete endpoint {eid}" + (f" and template {st.template_id}" if st.template_id else "")
                 + ".", [f"The network volume {st.volume_id or ''} and its models stay (delete it in the console)."])
        ep_mod.delete(api, eid, st.template_id)
        if eid == st.endpoint_id:
            st.endpoint_id = st.template_id = st.endpoint_name = None
        st.initializing_since.pop(eid, None)
        state.save(path, st)
        con.say(f"Deleted endpoint {eid} and its template.")
        return 0
    pools = [p for p in args.gpu_pools.split(",")] if args.gpu_pools else None
    vol = volume.get(api, args.volume) if args.volume else None
    body = ep_mod.update_body(gpu_pools=pools, workers_max=args.workers_max, idle_timeout=args.idle_timeout,
                              flashboot=args.flashboot, timeout_s=args.execution_timeout, volume_id=args.volume,
                              datacenter=vol.datacenter if vol else None, image=args.image)
    if not body:
        raise ValueError("endpoint update: nothing to change; give --image or a setting such as --workers-max")
    if args.idle_timeout is not None and ep_mod.get(api, eid).scaler == "REQUEST_COUNT":
        raise ValueError("--idle-timeout: this endpoint scales on REQUEST_COUNT, where RunPod refuses an idle "
                         "timeout")
    if args.image:
        _check_image(runner, args.image, args.skip_image_check, con)
    lines = [f"{k} → {json.dumps(v)}" for k, v in body.items() if k != "image"]
    if args.image:
        lines.insert(0, f"image → {args.image} (a new release: running workers keep the old image until they "
                        f"are replaced)")
    if vol:
        lines.append(f"pinned to {vol.datacenter}, the data center of volume {vol.id}, so workers can mount it")
    con.plan(f"Will update endpoint {eid}:", lines)
    ep = ep_mod.update(api, eid, body)
    want = args.volume or (st.volume_id if eid == st.endpoint_id else None)
    if want:
        ep_mod.require_volume(ep, want)
    if eid == st.endpoint_id:
        if args.image:
            st.image = ep.image
        if pools:
            st.gpu_pools = ep.gpu_pools or costs.check_pools(pools)
        if vol:
            st.volume_id, st.volume_name, st.volume_size_gb, st.datacenter = vol.id, vol.name, vol.size_gb, \
                vol.datacenter
        state.save(path, st)
    said = [f"image {ep.image} (workers switch as they cycle; python -m deploy status marks the outdated ones)"
            if args.image else "", f"volume {want} attached" if want else "",
            f"pinned to {', '.join(ep.datacenters)}" if vol else ""]
    con.say(f"Updated endpoint {eid}, read back: " + "; ".join(x for x in said if x) + "."
            if any(said) else f"Updated endpoint {eid}.")
    return 0


def _endpoint_create(args, con, api, runner, path, st) -> int:
    vol_id = args.volume or st.volume_id
    datacenter = args.datacenter or (st.datacenter if vol_id == st.volume_id else None)
    size = st.volume_size_gb if vol_id == st.volume_id else None
    spec = ep_mod.EndpointSpec(
        name=args.name, image=args.image or st.image or "", volume_id=vol_id or "", datacenter=datacenter,
        gpu_pools=args.gpu_pools.split(","), workers_max=args.workers_max, idle_timeout=args.idle_timeout,
        flashboot=args.flashboot, scaler=args.scaler, scaler_value=args.scaler_value,
        timeout_s=args.execution_timeout, disk_gb=args.disk, env=ep_mod.parse_env(args.env),
        hf_secret=args.hf_secret or st.hf_secret)
    spec.check()
    _check_image(runner, spec.image, args.skip_image_check, con)
    vol_dc = st.datacenter if vol_id == st.volume_id else None
    if not vol_dc or size is None:  # a volume made elsewhere: its data center pins the endpoint
        v = volume.get(api, spec.volume_id)
        vol_dc, size = v.datacenter, v.size_gb
    if spec.datacenter and vol_dc and spec.datacenter != vol_dc:
        raise ValueError(f"--datacenter: {spec.datacenter} is not where volume {spec.volume_id} is ({vol_dc}); "
                         f"workers there could not mount it. Leave --datacenter out to use {vol_dc}")
    spec.datacenter = spec.datacenter or vol_dc
    summary = costs.summarize(size, spec.gpu_pools)
    con.plan("Will create a serverless template and endpoint:", spec.plan_lines() + summary.lines())
    leftover = st.template_id if not st.endpoint_id else None

    def remember_template(template_id: str | None) -> None:
        # Saved before the endpoint exists, so a failure after this point leaves a template we can find again.
        st.template_id = template_id
        state.save(path, st)

    template_id, ep = ep_mod.create(api, spec, leftover_template=leftover, on_template=remember_template,
                                    say=con.say)
    st.template_id, st.endpoint_id, st.endpoint_name = template_id, ep.id, ep.name
    st.image, st.gpu_pools, st.volume_id = spec.image, spec.gpu_pools, spec.volume_id
    state.save(path, st)  # saved before the volume check so `endpoint update`/`delete` can fix or remove it
    ep_mod.require_volume(ep, spec.volume_id)
    con.say(f"Created endpoint {ep.id} (template {template_id}); volume {spec.volume_id} attached; saved to {path}.")
    con.say("Next: python -m deploy provision --jobs portrait,tts --yes")
    return 0


def _provision(args, con, api, runner, path, st, env, sleep, clock) -> int:
    eid = _endpoint_id(args, st)
    jobs = provision.parse_jobs(args.jobs)
    con.plan(f"Will run the worker's provision action on endpoint {eid} for: {', '.join(jobs)}.",
             ["It downloads the missing model files onto the network volume (HF_TOKEN comes from the "
              "endpoint's secret, not from this request); a worker is billed while it runs."])
    outcome = provision.run(api, eid, jobs, con.say, poll_s=args.poll, sleep=sleep)
    for ln in provision.summary_lines(outcome):
        con.say(ln)
    return 0 if outcome.ok else 1


def _status(args, con, api, runner, path, st, env, sleep, clock) -> int:
    eid = _endpoint_id(args, st)
    s = status.read(api, eid, st.initializing_since.get(eid), clock())
    _remember_initializing(path, st, eid, s.initializing_since)
    if args.json:
        con.say(json.dumps(s.to_json(), indent=2))
    else:
        for ln in s.lines():
            con.say(ln)
    return 0


def _doctor(args, con, api, runner, path, st, env, sleep, clock) -> int:
    eid = _endpoint_id(args, st)
    facts = doctor.gather(api, eid, st.volume_id if eid == st.endpoint_id else None,
                          debug_timeout_s=args.debug_timeout, stuck_after_s=args.stuck_after, sleep=sleep,
                          seen_initializing=st.initializing_since.get(eid), now=clock(),
                          log_max_s=args.log_seconds)
    if facts.endpoint is not None:
        _remember_initializing(path, st, eid, facts.initializing_since)
    verdicts = doctor.diagnose(facts)
    pools = (facts.endpoint.gpu_pools if facts.endpoint else None) or st.gpu_pools
    summary = costs.summarize(st.volume_size_gb, pools)
    if args.json:
        con.say(json.dumps(doctor.to_json(verdicts, summary.to_json()), indent=2))
    else:
        for v in verdicts:
            con.say(v.line())
            for d in v.details:
                con.say(f"          {d}")
        for ln in summary.lines():
            con.say(ln)
    return 1 if any(v.status == "problem" for v in verdicts) else 0


def _remember_initializing(path, st: state.DeployState, eid: str, since: dict[str, float]) -> None:
    if st.initializing_since.get(eid, {}) == since:
        return
    if since:
        st.initializing_since[eid] = since
    else:
        st.initializing_since.pop(eid, None)
    state.save(path, st)


_COMMANDS = {"volume": _volume, "secret": _secret, "endpoint": _endpoint, "provision": _provision,
             "status": _status, "doctor": _doctor}

if __name__ == "__main__":
    sys.exit(main())
