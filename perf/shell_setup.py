"""Shell sandbox setup + teardown time vs. starting a plain `bash -c true` (goal: <= 50 ms median).

Each round times, side by side in this process: one `subprocess.run(["bash", "-c", "true"])`
(the baseline: the cheapest possible "shell"), and one bwrap sandbox started until its session
answers, then closed until no process or file is left. It also times a first command (`true`)
in a warm session. Prints medians and the sandbox/baseline ratio; the machine's other load makes
single rounds noisy, so compare medians.

    python perf/shell_setup.py --rounds 50 --base auto
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from collections.abc import Callable

from coachgym.envs.shell import SandboxConfig, open_sandbox
from coachgym.envs.shell.rootfs import rootfs_ready


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--base", default="auto", choices=["auto", "rootfs", "host"])
    args = parser.parse_args()
    config = SandboxConfig(base=args.base)
    open_sandbox(config).close()  # warm-up: builds the host mask once, loads caches
    baseline, setup, command = [], [], []
    for _ in range(args.rounds):
        baseline.append(timed(lambda: subprocess.run(["bash", "-c", "true"], check=True)))
        box = None

        def start() -> None:
            nonlocal box
            box = open_sandbox(config)

        start_ms = timed(start)
        command.append(timed(lambda: box.run("true")))
        setup.append(start_ms + timed(box.close))
    base_name = args.base if args.base != "auto" else ("rootfs" if rootfs_ready(config.rootfs) else "host")
    med_base, med_setup = statistics.median(baseline), statistics.median(setup)
    print(f"base filesystem: {base_name}; rounds: {args.rounds}")
    print(f"bash -c true          median {med_base:7.2f} ms")
    print(f"sandbox setup+teardown median {med_setup:7.2f} ms  (p90 {statistics.quantiles(setup, n=10)[-1]:.2f} ms)")
    print(f"first command 'true'  median {statistics.median(command):7.2f} ms")
    print(f"ratio setup+teardown / bash -c true: {med_setup / med_base:.1f}x; goal <= 50 ms: "
          f"{'met' if med_setup <= 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
