"""CLI commands of the benchmarks area: `eval`, `report`, `compare` and `quickstart`.

`coachgym.cli` calls `register(app)`. Commands only parse options and print; the work is in
`runner`, `report` and `quickstart`, so everything here is also usable from Python.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table as RichTable

console = Console()


def _csv(value: Optional[str]) -> Optional[list[str]]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _print_table(table) -> None:
    rich = RichTable(*table.headers, title=table.title)
    for row in table.rows:
        rich.add_row(*(cell if isinstance(cell, str) else cell[0] for cell in row))
    console.print(rich)


def _print_problems(runs) -> None:
    from coachgym.benchmarks.report import problems
    from coachgym.errors import print_problems

    print_problems(problems(runs))


def eval_command(
    suite: str = typer.Option("coachgym-bench", help="Benchmark name or file, or one env suite (e.g. guess, shell)."),
    agent: str = typer.Option("scripted", help="Agent spec: scripted, random, hf:PATH, openai:MODEL@URL."),
    out: Path = typer.Option(Path("runs/eval"), help="Run folder (results, trajectories, report)."),
    workers: int = typer.Option(1, min=1, help="Worker processes, each with its own agent and envs."),
    resume: bool = typer.Option(False, help="Continue the run in --out, skipping finished episodes."),
    timeout: float = typer.Option(600.0, help="Wall-clock limit per episode, in seconds."),
    repeats: int = typer.Option(1, min=1, help="Episodes per task (each with its own fixed seed)."),
    seed: int = typer.Option(0, help="Base seed mixed into every task's fixed seed."),
    limit: Optional[int] = typer.Option(None, min=1, help="At most N tasks per suite."),
    components: Optional[str] = typer.Option(None, help="Comma-separated suites of the benchmark to run."),
    agent_factory: Optional[str] = typer.Option(None, help="module:callable returning an Agent not in the registry; "
                                                "--agent is then the name results are recorded under."),
    protocol: str = typer.Option("coachgym", help="Episode protocol for envs that offer one (shell): coachgym or "
                                 "agentbench-v0.2 (see docs/benchmarks.md)."),
    agentbench_src: Optional[Path] = typer.Option(None, help="With --protocol agentbench-v0.2: an AgentBench v0.2 "
                                                  "checkout whose own prompts the shell and database agents see, "
                                                  "laid out as v0.2 does (read, never run)."),
) -> None:
    """Evaluate an agent on a benchmark; writes results.json, report.md and report.html into --out.
    Fails (exit 2) after writing them when more than 10% of the episodes ended in errors."""
    from tqdm import tqdm

    from coachgym.benchmarks.report import load_runs, summary_table, write_report
    from coachgym.benchmarks.runner import EvalConfig, prepare, run_eval
    from coachgym.trajectories.stats import check_error_share

    config = EvalConfig(suite=suite, agent=agent, out=out, workers=workers, resume=resume, timeout_s=timeout,
                        repeats=repeats, base_seed=seed, limit=limit, components=_csv(components),
                        agent_factory=agent_factory, protocol=protocol, agentbench_src=agentbench_src)
    manifest, _ = prepare(config)
    bar = tqdm(total=len(manifest.plan), desc=f"eval {agent}", unit="ep", dynamic_ncols=True)
    try:
        run_eval(config.model_copy(update={"resume": True}), on_episode=lambda _: bar.update(1))
    finally:
        bar.close()  # before any error line, which would otherwise land on the bar's line
    markdown, page = write_report([out])
    runs = load_runs([out])
    _print_table(summary_table(runs))
    _print_problems(runs)
    console.print(f"report: {page.resolve()}\nmarkdown: {markdown.resolve()}")
    metrics = runs[0].results.metrics
    check_error_share(metrics.error_episodes(), metrics.episodes, f"the run in {out}",
                      "run the same command with --resume: it plays the failed episodes again")


def report_command(
    runs: list[Path] = typer.Argument(..., help="One or more run folders."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default: the run's folder; required for several)."),
) -> None:
    """(Re)write report.md and report.html for finished or interrupted runs."""
    from coachgym.benchmarks.report import write_report

    markdown, page = write_report(runs, out)
    console.print(f"report: {page.resolve()}\nmarkdown: {markdown.resolve()}")


def compare_command(
    runs: list[Path] = typer.Argument(..., help="Two or more run folders; the first is the baseline."),
    out: Optional[Path] = typer.Option(None, help="Also write report.md/report.html comparing them into this folder."),
) -> None:
    """Side-by-side success per suite and overall score, with the change from the first run."""
    from coachgym.benchmarks.report import comparison_table, load_runs, write_report

    loaded = load_runs(runs)
    _print_table(comparison_table(loaded))
    _print_problems(loaded)
    if out is not None:
        _, page = write_report(runs, out)
        console.print(f"report: {page.resolve()}")


def quickstart_command(
    out: Optional[Path] = typer.Option(None, help="Folder for data, models, runs and the report [default: the "
                                    "config's, runs/quickstart]."),
    small: bool = typer.Option(False, help="The CI configuration: one family, few layouts and steps (~2 minutes)."),
    config_file: Optional[Path] = typer.Option(None, "--config", help="YAML quickstart config (families, sizes, "
                                            "steps; pretrained parts instead of tiny models: docs/quickstart.md)."),
) -> None:
    """Phone GUI tasks: expert data -> SFT a VLM teacher -> distil a smaller student -> evaluate held-out -> report."""
    from coachgym.benchmarks.quickstart import QuickstartConfig, run_quickstart
    from coachgym.training.config import load_config

    if small and config_file:
        raise ValueError("--small and --config are alternatives; put the small sizes in the config file instead.")
    if config_file:
        config = load_config(QuickstartConfig, config_file)
    else:
        config = QuickstartConfig.small() if small else QuickstartConfig()
    if out:
        config = config.model_copy(update={"out": out})
    page = run_quickstart(config, log=lambda line: console.print(line, markup=False))
    console.print(f"[bold green]Quickstart done.[/bold green] Report: {page.resolve()}")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("report")(report_command)
    app.command("compare")(compare_command)
    app.command("quickstart")(quickstart_command)
