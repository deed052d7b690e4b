"""The cost of ``--server-metrics`` to the parent: one scrape's text parsed and read.

The scraper reads the server's answer once a second on a thread of the parent (never a
worker): ``prometheus_client``'s parser, then the sums, counter rates and histogram
percentiles of ``run/promtext.py``. This times that on a vLLM-shaped exposition (the test
fixture's families and eight more histograms of TTFT's size, as vLLM serves them) for many
models at once — the size of the answer is what
the cost grows with — and says how big the text was.

    python benchmarks/server_metrics_bench.py               # 40 models, a few seconds
    python benchmarks/server_metrics_bench.py --models 200
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from loadtui.run.promtext import parse_exposition, read_values, wanted_names

FIXTURE = Path(__file__).parent.parent / "tests" / "data" / "server-metrics" / "vllm.prom"


OTHER_HISTOGRAMS = (
    "vllm:e2e_request_latency_seconds",
    "vllm:request_queue_time_seconds",
    "vllm:request_inference_time_seconds",
    "vllm:request_prefill_time_seconds",
    "vllm:request_decode_time_seconds",
    "vllm:time_per_output_token_seconds",
    "vllm:request_prompt_tokens",
    "vllm:request_generation_tokens",
)
"""Histograms vLLM serves that no known series reads (docs/server-metrics.md)."""


def exposition(models: int) -> str:
    """The fixture's families with one label set per model (HELP/TYPE once per family)."""
    families: dict[str, list[str]] = {}
    order: list[str] = []
    current = ""
    for line in FIXTURE.read_text().splitlines():
        if line.startswith("# HELP "):
            current = line.split()[2]
            order.append(current)
            families[current] = [line]
        elif line.startswith("#"):
            families[current].append(line)
        else:
            samples = [line.replace('model_name="', f'model_name="m{i}-', 1) for i in range(models)]
            families[current].extend(samples)
    ttft = "vllm:time_to_first_token_seconds"
    for other in OTHER_HISTOGRAMS:  # a real vLLM serves these beside the TTFT, alike in size
        order.append(other)
        families[other] = [line.replace(ttft, other) for line in families[ttft]]
    return "\n".join(line for name in order for line in families[name]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    text = exposition(args.models)
    extra = ["vllm:request_success_total"]
    for label, names in (("every family", None), ("wanted only", wanted_names(extra))):
        before = parse_exposition(text, 0.0, names)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            now = parse_exposition(text, 1.0, names)
            read_values(now, before, extra)
            times.append(time.perf_counter() - start)
        print(
            f"{args.models} models, {len(text) / 1024:.0f} KB, {label}: "
            f"median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
