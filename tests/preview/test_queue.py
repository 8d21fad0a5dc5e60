"""Queue, interrupt, history and reconnect rules (the timed flows e23, e24, h03, and e13/e15)."""
from __future__ import annotations

import asyncio
import json
import uuid

import aiohttp
import httpx
import pytest

from . import graphs
from .conftest import Engine, run_ws


@pytest.fixture(scope="module")
def slow(tmp_path_factory) -> Engine:
    from .conftest import start_engine
    e = start_engine(tmp_path_factory.mktemp("slow"), "--models-from-manifest", "--step-delay", "0.03")
    yield e
    e.http.close()
    e.proc.stop()


def post(e: Engine, graph: dict, **extra) -> dict:
    r = e.http.post("/prompt", json={"prompt": graph, **extra})
    assert r.status_code == 200, r.text
    return r.json()


async def test_interrupt_lets_the_running_node_finish(slow: Engine):
    cid = f"int-{uuid.uuid4().hex[:6]}"
    body = {"prompt": graphs.portrait(steps=30, seed=11), "client_id": cid}

    async def interrupt_when_sampling():
        async with httpx.AsyncClient(base_url=slow.url) as http:
            for _ in range(200):
                if (await http.get("/queue")).json()["queue_running"]:
                    await asyncio.sleep(0.2)
                    await http.post("/interrupt", json={})
                    return
                await asyncio.sleep(0.02)

    task = asyncio.create_task(interrupt_when_sampling())
    _, frames = await run_ws(slow, body, client_id=cid)
    await task
    types = [f["type"] for f in frames]
    steps = [f["data"]["value"] for f in frames if f["type"] == "progress"]
    assert steps == list(range(1, 31)), "the sampler node ran to its end"
    i = types.index("execution_interrupted")
    assert frames[i - 1]["type"] == "executing" and frames[i - 1]["data"]["node"] == "6"
    assert frames[i]["data"]["node_id"] == "6" and frames[i]["data"]["node_type"] == "VAEDecode"
    assert frames[i]["data"]["executed"][-1] == "5"
    assert types[i + 1:] == ["status", "executing"] and frames[-1]["data"]["node"] is None
    pid = frames[i]["data"]["prompt_id"]
    entry = slow.http.get(f"/history/{pid}").json()[pid]
    assert entry["status"]["status_str"] == "error" and entry["outputs"] == {}


def test_queue_front_delete_clear_and_targeted_interrupt(slow: Engine):
    a = post(slow, graphs.portrait(steps=40, seed=21))
    b = post(slow, graphs.portrait(steps=1, seed=22))
    c = post(slow, graphs.portrait(steps=1, seed=23), front=True)
    assert c["number"] < 0 and b["number"] == a["number"] + 1 and c["number"] == -(b["number"] + 1)
    q = slow.http.get("/queue").json()
    assert [x[1] for x in q["queue_running"]] == [a["prompt_id"]]
    assert {x[1] for x in q["queue_pending"]} == {b["prompt_id"], c["prompt_id"]}
    assert all(len(x) == 5 and x[4] == ["7"] for x in q["queue_pending"])
    assert slow.http.get("/prompt").json() == {"exec_info": {"queue_remaining": 3}}
    # A targeted interrupt for a prompt that is not running does nothing.
    assert slow.http.post("/interrupt", json={"prompt_id": b["prompt_id"]}).content == b""
    assert slow.http.get("/queue").json()["queue_running"]
    r = slow.http.post("/queue", json={"delete": [b["prompt_id"]]})
    assert (r.status_code, r.content) == (200, b"")
    assert [x[1] for x in slow.http.get("/queue").json()["queue_pending"]] == [c["prompt_id"]]
    assert slow.http.post("/interrupt", json={"prompt_id": a["prompt_id"]}).status_code == 200
    slow.wait_idle()
    hist = slow.http.get("/history").json()
    assert hist[a["prompt_id"]]["status"]["status_str"] == "error"
    assert hist[c["prompt_id"]]["status"]["status_str"] == "success"
    assert slow.http.get(f"/history/{b['prompt_id']}").json() == {}, "deleted prompts never reach history"
    d = post(slow, graphs.portrait(steps=40, seed=24))
    e = post(slow, graphs.portrait(steps=1, seed=25))
    assert slow.http.post("/api/queue", json={"clear": True}).status_code == 200
    assert slow.http.get("/queue").json()["queue_pending"] == []
    slow.http.post("/interrupt")
    slow.wait_idle()
    assert slow.http.get(f"/history/{e['prompt_id']}").json() == {}
    assert slow.http.get(f"/history/{d['prompt_id']}").json()[d["prompt_id"]]["status"]["status_str"] == "error"


def test_history_max_items_and_offset(slow: Engine):
    ids = [post(slow, graphs.portrait(steps=1, seed=100 + i))["prompt_id"] for i in range(3)]
    slow.wait_idle()
    everything = list(slow.http.get("/history").json())
    assert everything[-3:] == ids
    assert list(slow.http.get("/history", params={"max_items": 2}).json()) == everything[-2:]
    assert list(slow.http.get("/api/history", params={"max_items": 1}).json()) == everything[-1:]
    # offset counts from the oldest end.
    assert list(slow.http.get("/history", params={"max_items": 2, "offset": 1}).json()) == everything[1:3]
    entry = slow.http.get("/history").json()[ids[0]]
    assert set(entry) == {"prompt", "outputs", "status", "meta"}
    assert slow.http.post("/history", json={"delete": [ids[0]]}).content == b""
    assert ids[0] not in slow.http.get("/history").json()


async def test_reconnect_with_same_client_id_mid_run(slow: Engine):
    cid = f"re-{uuid.uuid4().hex[:6]}"
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(f"{slow.ws_url}/ws?clientId={cid}") as ws:
            await ws.receive(timeout=5)
            pid = post(slow, graphs.portrait(steps=25, seed=31), client_id=cid)["prompt_id"]
            while True:
                msg = json.loads((await ws.receive(timeout=10)).data)
                if msg["type"] == "progress":
                    break
        async with s.ws_connect(f"{slow.ws_url}/ws?clientId={cid}") as ws2:
            first = json.loads((await ws2.receive(timeout=5)).data)
            second = json.loads((await ws2.receive(timeout=5)).data)
            assert first["type"] == "status" and first["data"]["sid"] == cid
            assert first["data"]["status"]["exec_info"]["queue_remaining"] == 1
            assert second == {"type": "executing", "data": {"node": "5"}}, "the running node, without prompt_id"
            while True:
                msg = json.loads((await ws2.receive(timeout=20)).data)
                if msg["type"] == "executing" and msg["data"]["node"] is None:
                    assert msg["data"]["prompt_id"] == pid
                    break
        async with s.ws_connect(f"{slow.ws_url}/ws?clientId={cid}") as ws3:
            first = json.loads((await ws3.receive(timeout=5)).data)
            assert first["data"]["status"]["exec_info"]["queue_remaining"] == 0
            with pytest.raises(asyncio.TimeoutError):
                await ws3.receive(timeout=0.3)
