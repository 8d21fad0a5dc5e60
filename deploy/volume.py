"""Network volumes: create (REST v2, GraphQL when v2 has no such route) and list."""
from __future__ import annotations

from deploy.api import Api, ApiError
from deploy.endpoint import check_datacenter
from deploy.models import Volume

_GQL_CREATE = ("mutation createNetworkVolume($input: CreateNetworkVolumeInput!) "
               "{ createNetworkVolume(input: $input) { id name size dataCenterId } }")
_GQL_LIST = "query { myself { networkVolumes { id name size dataCenterId } } }"


def check_request(name: str, size: int, datacenter: str) -> None:
    if not name.strip():
        raise ValueError("--name: give the volume a name, e.g. studio-models")
    if not 10 <= size <= 4000:
        raise ValueError(f"--size: {size} GB is outside 10–4000 GB (over 4 TB needs RunPod support)")
    check_datacenter(datacenter)


def create(api: Api, name: str, size: int, datacenter: str) -> Volume:
    check_request(name, size, datacenter)
    try:
        body = api.rest("POST", "/network-volumes", {"name": name, "size": size, "dataCenter": datacenter})
        return Volume.from_api(body)
    except ApiError as exc:
        if exc.status not in (404, 405, 501):
            raise
    data = api.graphql(_GQL_CREATE, {"input": {"name": name, "size": size, "dataCenterId": datacenter}})
    return Volume.from_api(data["createNetworkVolume"])


def get(api: Api, volume_id: str) -> Volume:
    return Volume.from_api(api.rest("GET", f"/network-volumes/{volume_id}"))


def list_all(api: Api) -> list[Volume]:
    try:
        body = api.rest("GET", "/network-volumes")
        items = body.get("networkVolumes", []) if isinstance(body, dict) else body
    except ApiError as exc:
        if exc.status not in (404, 405, 501):
            raise
        items = api.graphql(_GQL_LIST).get("myself", {}).get("networkVolumes", [])
    return [Volume.from_api(v) for v in items or []]
