"""What the machine did during an agent run, sampled by the runner (outside the agent's box).

PostTrainBench runs `system_monitor.sh` beside each agent and pipes the agent's output through
`timestamp_lines.py`; here one thread of the runner does both, where the agent cannot touch it:

- the system sampler: GPU utilisation and memory (`nvidia-smi --query-gpu`, where there is one),
  CPU use, load and RAM (from /proc), every `interval_s`, one JSON line each in `monitor.jsonl`;
  `summary()` is agent.json's `monitor` section. The figures are the machine's, not the box's
  alone (a node shared with another job shows its load too): they say whether the GPU was used.
- the line clock: every second, the size the agent's log has reached, as `<bytes> <unix time>`
  in `agent.log.times`, so that each line of the trace gets the time it was written
  (ptb.agent_runs.traces.read_times) without touching the log the parsers read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

GPU_QUERY = "index,utilization.gpu,memory.used,memory.total"


def gpus(nvidia_smi: str | None = None, visible: str | None = None) -> list[dict] | None:
    """One dict per GPU (index, util_percent, memory_used_mib, memory_total_mib) from
    nvidia-smi, restricted to CUDA_VISIBLE_DEVICES when it lists indices; None without one."""
    nvidia_smi = nvidia_smi or shutil.which("nvidia-smi")
    if not nvidia_smi:
        return None
    try:
        out = subprocess.run(
            [nvidia_smi, f"--query-gpu={GPU_QUERY}", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    wanted = None
    visible = os.environ.get("CUDA_VISIBLE_DEVICES") if visible is None else visible
    if visible and all(part.strip().isdigit() for part in visible.split(",")):
        wanted = {int(part) for part in visible.split(",")}
    rows = []
    for line in out.stdout.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 4:
            continue
        try:
            index, util, used, total = (float(f) for f in fields)
        except ValueError:  # "[N/A]" on some boards
            continue
        if wanted is None or int(index) in wanted:
            rows.append(
                {
                    "index": int(index),
                    "util_percent": util,
                    "memory_used_mib": used,
                    "memory_total_mib": total,
                }
            )
    return rows


def _cpu_times() -> tuple[float, float] | None:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    values = [float(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def _memory_mib() -> tuple[float, float] | None:
    """(used, total) MiB: MemTotal - MemAvailable, from /proc/meminfo."""
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        total, available = (float(info[k].split()[0]) / 1024 for k in ("MemTotal", "MemAvailable"))
    except (OSError, KeyError, ValueError):
        return None
    return total - available, total


def _load1() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Monitor:
    """`with Monitor(run_dir, log_path, interval_s):` around the agent run; then `summary()`."""

    def __init__(self, run_dir: str | Path, log_path: str | Path, interval_s: float, nvidia_smi=None):
        self.record = Path(run_dir) / "monitor.jsonl"
        self.clock = Path(str(log_path) + ".times")
        self.log_path = Path(log_path)
        self.interval_s = interval_s
        self.nvidia_smi = nvidia_smi
        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._cpu = _cpu_times()

    def __enter__(self) -> Monitor:
        self.record.parent.mkdir(parents=True, exist_ok=True)
        self._record = open(self.record, "w", encoding="utf-8")  # noqa: SIM115 (closed in __exit__)
        self._clock = open(self.clock, "w", encoding="utf-8")  # noqa: SIM115 (closed in __exit__)
        self._size = -1
        self._thread = threading.Thread(target=self._run, name="agent-monitor", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        self._tick()  # the log's last lines
        self._sample()  # and the machine at the end
        self._record.close()
        self._clock.close()

    def _run(self) -> None:
        next_sample = time.monotonic()
        while not self._stop.is_set():
            self._tick()
            if time.monotonic() >= next_sample:
                self._sample()
                next_sample += self.interval_s
            self._stop.wait(1.0)

    def _tick(self) -> None:
        try:
            size = self.log_path.stat().st_size
        except OSError:
            return
        if size != self._size:
            self._size = size
            self._clock.write(f"{size} {time.time():.3f}\n")
            self._clock.flush()

    def _sample(self) -> None:
        sample: dict = {"time": round(time.time(), 3)}
        cpu = _cpu_times()
        if cpu and self._cpu and cpu[1] > self._cpu[1]:
            sample["cpu_percent"] = round(100 * (cpu[0] - self._cpu[0]) / (cpu[1] - self._cpu[1]), 1)
        self._cpu = cpu or self._cpu
        sample["load1"] = _load1()
        memory = _memory_mib()
        if memory:
            sample["memory_used_mib"], sample["memory_total_mib"] = (round(v) for v in memory)
        found = gpus(self.nvidia_smi)
        if found is not None:
            sample["gpus"] = found
        self.samples.append(sample)
        self._record.write(json.dumps(sample) + "\n")
        self._record.flush()

    def summary(self) -> dict:
        """agent.json's `monitor` section: the samples' means and peaks."""
        return summarize(self.samples, self.interval_s, self.record.name)


def summarize(samples: list[dict], interval_s: float, record: str = "monitor.jsonl") -> dict:
    def stats(values: list[float]) -> dict | None:
        return {"mean": round(sum(values) / len(values), 1), "max": max(values)} if values else None

    out: dict = {
        "record": record,
        "samples": len(samples),
        "interval_seconds": interval_s,
        "cpu_percent": stats([s["cpu_percent"] for s in samples if "cpu_percent" in s]),
        "memory_used_mib": stats([s["memory_used_mib"] for s in samples if "memory_used_mib" in s]),
        "memory_total_mib": next((s["memory_total_mib"] for s in samples if "memory_total_mib" in s), None),
        "gpus": None,
    }
    per_gpu: dict[int, list[dict]] = {}
    for sample in samples:
        for gpu in sample.get("gpus") or []:
            per_gpu.setdefault(gpu["index"], []).append(gpu)
    if any("gpus" in s for s in samples):
        out["gpus"] = [
            {
                "index": index,
                "util_percent": stats([r["util_percent"] for r in rows]),
                "memory_used_mib": stats([r["memory_used_mib"] for r in rows]),
                "memory_total_mib": rows[-1]["memory_total_mib"],
            }
            for index, rows in sorted(per_gpu.items())
        ]
    return out


def describe(summary: dict | None) -> str | None:
    """One line for a page: the GPUs' use, else the CPU's and RAM's."""
    if not summary or not summary.get("samples"):
        return None
    parts = []
    for gpu in summary.get("gpus") or []:
        util, memory = gpu["util_percent"], gpu["memory_used_mib"]
        parts.append(
            f"GPU {gpu['index']}: {util['mean']:.0f}% busy on average (peak {util['max']:.0f}%), "
            f"peak memory {memory['max']:.0f} of {gpu['memory_total_mib']:.0f} MiB"
        )
    if summary.get("gpus") is None:
        parts.append("no GPU seen (no nvidia-smi)")
    if summary.get("cpu_percent"):
        parts.append(f"CPU {summary['cpu_percent']['mean']:.0f}% on average")
    if summary.get("memory_used_mib"):
        parts.append(f"RAM peak {summary['memory_used_mib']['max']:.0f} of {summary['memory_total_mib']} MiB")
    return f"{'; '.join(parts)} ({summary['samples']} samples, every {summary['interval_seconds']:g} s)"
