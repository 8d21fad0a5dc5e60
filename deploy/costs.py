"""What an endpoint costs: the monthly floor (the network volume) and the price per GPU-second of its pools."""
from __future__ import annotations

from dataclasses import dataclass

# Network volume storage, first TB ($/GB/month), runpod-serverless reference §2.7.
VOLUME_PRICE_PER_GB_MONTH = 0.07

# Flex-worker list prices per GPU-second by serverless GPU pool, as RunPod publishes them on its pricing page.
# They change; the numbers are a guide for choosing pools, not a bill.
POOL_PRICE_PER_SECOND: dict[str, float] = {
    "AMPERE_16": 0.00016,
    "AMPERE_24": 0.00019,
    "ADA_24": 0.00031,
    "AMPERE_48": 0.00034,
    "ADA_48_PRO": 0.00053,
    "AMPERE_80": 0.00076,
    "ADA_80_PRO": 0.00116,
    "HOPPER_141": 0.00155,
}
POOL_GPUS: dict[str, str] = {
    "AMPERE_16": "16 GB: RTX A4000/A4500, RTX 4000 Ada",
    "AMPERE_24": "24 GB: L4, RTX A5000, RTX 3090",
    "ADA_24": "24 GB: RTX 4090",
    "AMPERE_48": "48 GB: RTX A6000, A40",
    "ADA_48_PRO": "48 GB: L40, L40S, RTX 6000 Ada",
    "AMPERE_80": "80 GB: A100",
    "ADA_80_PRO": "80 GB: H100",
    "HOPPER_141": "141 GB: H200",
}


def check_pools(pools: list[str]) -> list[str]:
    """The pool ids, upper-cased; raises ValueError naming the field and what is allowed."""
    out = [p.strip().upper() for p in pools if p.strip()]
    if not out:
        raise ValueError("--gpu-pools: give at least one pool, e.g. ADA_24,AMPERE_48")
    bad = [p for p in out if p not in POOL_PRICE_PER_SECOND]
    if bad:
        raise ValueError(f"--gpu-pools: unknown pool {', '.join(bad)}; allowed: {', '.join(POOL_PRICE_PER_SECOND)}")
    return out


@dataclass(frozen=True)
class CostSummary:
    volume_gb: int
    monthly_floor_usd: float
    pool_prices: dict[str, float]

    def lines(self) -> list[str]:
        out = [f"Monthly floor: ${self.monthly_floor_usd:.2f} (network volume {self.volume_gb} GB × "
               f"${VOLUME_PRICE_PER_GB_MONTH:.2f}/GB/month; idle workers cost nothing)"]
        for pool, price in self.pool_prices.items():
            out.append(f"  {pool:<11} ${price:.5f}/GPU-second (${price * 3600:.2f}/hour)  {POOL_GPUS.get(pool, '')}")
        return out

    def to_json(self) -> dict:
        return {"volume_gb": self.volume_gb, "monthly_floor_usd": round(self.monthly_floor_usd, 2),
                "price_per_gpu_second": self.pool_prices}


def summarize(volume_gb: int | None, pools: list[str]) -> CostSummary:
    gb = int(volume_gb or 0)
    return CostSummary(gb, gb * VOLUME_PRICE_PER_GB_MONTH,
                       {p: POOL_PRICE_PER_SECOND[p] for p in pools if p in POOL_PRICE_PER_SECOND})


def other_pools(pools: list[str]) -> list[str]:
    """Pools not yet chosen, cheapest first: what to suggest when the chosen ones are throttled."""
    return sorted((p for p in POOL_PRICE_PER_SECOND if p not in pools), key=POOL_PRICE_PER_SECOND.get)
