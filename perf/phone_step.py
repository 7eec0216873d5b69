"""Phone env step cost vs. the raw renderer, measured side by side in one process.

For each screenshot height, the scripted expert's episodes over a fixed set of tasks are
replayed; every step is timed as a whole (`env.step`: parse the action, run it, rebuild the
screen, UI tree text and screenshot) and, right after it, the raw renderer alone is timed on the
very same screen (`Renderer.render`). The first pass warms the glyph cache and is discarded.
Prints medians, p90s and the ratio step/render (how much the env adds on top of drawing), plus
the CPU time of each (`time.thread_time`): on a shared, loaded box wall time includes waiting for
a core, and CPU time is the better estimate of the cost on an idle core.

    python perf/phone_step.py [--heights 560 1120] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from coachgym.envs.phone import PhoneEnv
from coachgym.envs.phone.expert import PhoneExpert

TASKS = ["phone-shop-filter-wallets", "phone-messages-reply-alice", "phone-contacts-add-sam",
         "phone-cross-next-meeting-alice", "phone-settings-night", "phone-notes-append-bread",
         "phone-calendar-move-budget", "phone-shop-buy-two"]


def measure(height: int, repeats: int) -> tuple[list[float], list[float], list[float], list[float]]:
    """Wall and CPU seconds of every step and of every raw render."""
    env = PhoneEnv(screenshot_height=height)
    steps, renders, step_cpu, render_cpu = [], [], [], []
    for rep in range(repeats + 1):
        for task_id in TASKS:
            obs, _ = env.reset(seed=rep, options={"task_id": task_id})
            expert = PhoneExpert(env.task, mode="mixed")
            done = False
            while not done:
                action = expert.act(obs)
                started, cpu = time.perf_counter(), time.thread_time()
                obs, _, terminated, truncated, _ = env.step(action)
                step_s, step_c = time.perf_counter() - started, time.thread_time() - cpu
                screen, dark = env.device.screen(), env.device.state.settings.dark_mode
                started, cpu = time.perf_counter(), time.thread_time()
                env.renderer.render(screen, dark)
                render_s, render_c = time.perf_counter() - started, time.thread_time() - cpu
                done = terminated or truncated
                if rep > 0:  # pass 0 warms caches
                    steps.append(step_s)
                    renders.append(render_s)
                    step_cpu.append(step_c)
                    render_cpu.append(render_c)
    return steps, renders, step_cpu, render_cpu


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--heights", type=int, nargs="+", default=[560, 1120, 2400])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'screenshot':>12} {'steps':>6} {'step median':>12} {'step p90':>9} {'render median':>14} "
          f"{'render p90':>11} {'ratio':>6} {'step cpu':>9} {'render cpu':>11}")
    for height in args.heights:
        steps, renders, step_cpu, render_cpu = measure(height, args.repeats)
        width = PhoneEnv(screenshot_height=height).scale.width
        step_ms, render_ms = statistics.median(steps) * 1e3, statistics.median(renders) * 1e3
        print(f"{f'{width}x{height}':>12} {len(steps):>6} {step_ms:>10.2f}ms {_p90(steps) * 1e3:>7.2f}ms "
              f"{render_ms:>12.2f}ms {_p90(renders) * 1e3:>9.2f}ms {step_ms / render_ms:>6.2f} "
              f"{statistics.median(step_cpu) * 1e3:>7.2f}ms {statistics.median(render_cpu) * 1e3:>9.2f}ms")


if __name__ == "__main__":
    main()
