"""The system monitor beside every agent run (ptb.agent_runs.monitor): GPU figures from a fake
nvidia-smi, CPU and RAM from /proc, the line clock of the agent's log, and their summary."""

from __future__ import annotations

import json
import time

from ptb.agent_runs import monitor

# what `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits`
# prints; each call reads the next utilisation from a counter file
FAKE_SMI = """#!/bin/bash
case "$*" in *--query-gpu=index,utilization.gpu,memory.used,memory.total*--format=csv,noheader,nounits*) ;;
  *) echo "unexpected arguments: $*" >&2; exit 2 ;; esac
n=$(cat {state} 2>/dev/null || echo 0); echo $((n + 1)) > {state}
echo "0, $(( n * 40 > 100 ? 100 : n * 40 )), $(( 1000 + n * 500 )), 81559"
echo "1, [N/A], [N/A], 81559"
echo "2, 0, 3, 81559"
"""


def fake_smi(tmp_path):
    smi = tmp_path / "nvidia-smi"
    smi.write_text(FAKE_SMI.format(state=tmp_path / "calls"))
    smi.chmod(0o755)
    return str(smi)


def test_gpus_reads_nvidia_smi_skips_unreadable_rows_and_keeps_the_visible_ones(tmp_path):
    smi = fake_smi(tmp_path)
    rows = monitor.gpus(smi, visible="")
    assert [r["index"] for r in rows] == [0, 2], "the [N/A] board is skipped, not read as 0"
    assert rows[0] == {
        "index": 0,
        "util_percent": 0.0,
        "memory_used_mib": 1000.0,
        "memory_total_mib": 81559.0,
    }
    assert [r["index"] for r in monitor.gpus(smi, visible="2")] == [2]
    assert [r["index"] for r in monitor.gpus(smi, visible="GPU-uuid-1")] == [0, 2], "uuids: all"
    broken = tmp_path / "broken-smi"
    broken.write_text("#!/bin/bash\necho 'NVIDIA-SMI has failed' >&2; exit 9\n")
    broken.chmod(0o755)
    assert monitor.gpus(str(broken)) is None


def test_the_monitor_samples_the_machine_and_clocks_the_log(tmp_path):
    log = tmp_path / "agent.log"
    with monitor.Monitor(tmp_path, log, interval_s=1.0, nvidia_smi=fake_smi(tmp_path)) as watch:
        time.sleep(0.3)
        log.write_text('{"type": "first"}\n')
        time.sleep(1.5)
        with log.open("a") as handle:
            handle.write("second line\n")
        time.sleep(1.5)
    samples = [json.loads(line) for line in (tmp_path / "monitor.jsonl").read_text().splitlines()]
    assert len(samples) >= 3 and samples == watch.samples
    assert all(
        s["memory_total_mib"] > 0 and 0 <= s["memory_used_mib"] <= s["memory_total_mib"] for s in samples
    )
    assert all(0 <= s["cpu_percent"] <= 100 for s in samples[1:])
    clock = [row.split() for row in (tmp_path / "agent.log.times").read_text().splitlines()]
    sizes = [int(size) for size, _ in clock]
    assert sizes == [18, 30], clock
    assert float(clock[1][1]) - float(clock[0][1]) >= 1.0, "each size with the time it was first seen"
    summary = watch.summary()
    gpu0 = summary["gpus"][0]
    assert gpu0["index"] == 0 and gpu0["util_percent"]["max"] == min(100, 40 * (len(samples) - 1))
    assert gpu0["memory_used_mib"]["max"] == 1000 + 500 * (len(samples) - 1)
    line = monitor.describe(summary)
    assert line.startswith("GPU 0: ") and "GPU 2: 0% busy" in line and f"{len(samples)} samples" in line


def test_without_nvidia_smi_the_summary_says_so(tmp_path):
    summary = monitor.summarize(
        [{"time": 1, "cpu_percent": 50.0, "memory_used_mib": 900, "memory_total_mib": 2000}], 5
    )
    assert summary["gpus"] is None
    assert (
        monitor.describe(summary)
        == "no GPU seen (no nvidia-smi); CPU 50% on average; RAM peak 900 of 2000 MiB (1 samples, every 5 s)"
    )
    assert monitor.describe(monitor.summarize([], 5)) is None
