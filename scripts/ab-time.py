#!/usr/bin/env python3
"""Alternating A/B timer for a noisy shared machine.

Runs each command once per round, in turn, for N rounds, and reports for each its best and
median wall time and its speed relative to the LAST command (the reference, e.g. tcpdump),
as the median of the per-round ratios: a slow minute slows every command of that round alike,
so ratios taken within a round are far steadier than whole-run figures. CPU time (user + system,
from the children's resource usage) is reported beside wall time: on a VM whose host takes
cycles away (steal time) it moves less than wall time does.

Usage: scripts/ab-time.py N LABEL 'COMMAND' [LABEL 'COMMAND' ...]
Example (binaries saved from two commits, one core):
  scripts/ab-time.py 9 old "taskset -c 0 /tmp/cordon-old replay -c config/cordon.toml \\
      --horizon-days 0 F" new "taskset -c 0 /tmp/cordon-new replay ... F" \\
      tcpdump "taskset -c 0 tcpdump -nr F -w /dev/null"
Commands run through the shell; their output is discarded.
"""
import resource
import statistics
import subprocess
import sys
import time


def main() -> None:
    if len(sys.argv) < 4 or len(sys.argv) % 2 != 0:
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    if rounds < 1:
        sys.exit("N must be at least 1")
    pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))
    ref = pairs[-1][0]
    wall = {label: [] for label, _ in pairs}
    cpu = {label: [] for label, _ in pairs}
    for r in range(rounds):
        # Rotate the order each round, so no command always runs right after the same one.
        for label, cmd in pairs[r % len(pairs):] + pairs[: r % len(pairs)]:
            t = time.monotonic()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(
                cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            wall[label].append(time.monotonic() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[label].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if done.returncode != 0:
                sys.exit(f"{label} failed (exit {done.returncode}): {cmd}\n"
                         + done.stderr.decode(errors="replace")[-2000:])
    for label, _ in pairs:
        ratios = [wall[ref][i] / wall[label][i] for i in range(rounds)]
        cpu_ratios = [cpu[ref][i] / max(cpu[label][i], 1e-9) for i in range(rounds)]
        print(
            f"{label:8s} wall best {min(wall[label]):.3f} s median {statistics.median(wall[label]):.3f} s"
            f"  speed vs {ref}: median {statistics.median(ratios):.3f}x"
            f" best-of {min(wall[ref]) / min(wall[label]):.3f}x"
            f" | cpu median {statistics.median(cpu[label]):.3f} s"
            f" vs {ref}: median {statistics.median(cpu_ratios):.3f}x"
        )


if __name__ == "__main__":
    main()
