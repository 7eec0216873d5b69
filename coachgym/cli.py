"""The `coachgym` command line.

Core commands live here; feature areas add theirs through a `register(app)` function in their
own `commands` module, so each area owns its CLI surface without editing this file.

Errors are handled once, here: an error meant for the user (`coachgym.errors.USER_ERRORS`) is
printed as one red line on stderr with exit code 2, whichever command raised it; `--debug` shows
the traceback instead. Other exceptions are bugs and keep their traceback.
"""

from __future__ import annotations

import importlib
import json
from enum import Enum
from pathlib import Path
from typing import Optional

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from coachgym.errors import USER_ERRORS, one_line, print_problems


class OneLineErrors(TyperGroup):
    """The root command group: runs every command and turns user-facing errors into one line."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):  # RuntimeErrors, but click's own control flow
            raise
        except USER_ERRORS as error:
            if ctx.params.get("debug"):
                raise
            typer.secho(f"Error: {one_line(error)}", fg="red", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(cls=OneLineErrors, help="coachgym: environments, trajectories, training and benchmarks for agents.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
envs_app = typer.Typer(help="Environments.", no_args_is_help=True)
tasks_app = typer.Typer(help="Task suites.", no_args_is_help=True)
traj_app = typer.Typer(help="Trajectory stores: stats, export, view.", no_args_is_help=True)
app.add_typer(envs_app, name="envs")
app.add_typer(tasks_app, name="tasks")
app.add_typer(traj_app, name="traj")
console = Console()

# Modules that contribute commands with `register(app)`.
COMMAND_MODULES = ["coachgym.agents.commands", "coachgym.training.commands", "coachgym.benchmarks.commands"]


@app.callback()
def options(debug: bool = typer.Option(False, "--debug", help="On an error, show the full traceback instead of one "
                                       "line (put it before the command: coachgym --debug eval ...).")) -> None:
    """`--debug` is read by `OneLineErrors`; nothing else to set up."""


@envs_app.command("list")
def envs_list() -> None:
    """List registered envs, their suites, and whether they run on this machine."""
    from coachgym.envs.registry import ENVS, availability

    table = Table("name", "gym id", "suites", "status", "summary")
    for entry in ENVS.values():
        problem = availability(entry.name)
        table.add_row(entry.name, entry.gym_id, ", ".join(entry.suites), "ok" if problem is None else
                      f"[red]unavailable[/red]: {problem[:80]}", entry.summary)
    console.print(table)


@tasks_app.command("list")
def tasks_list(
    env: str = typer.Option(..., help="Env name."),
    suite: Optional[str] = typer.Option(None, help="Suite name or file (default: the env's built-in suite)."),
    split: Optional[str] = typer.Option(None, help="Only this split."),
) -> None:
    """List the tasks of a suite."""
    from coachgym.envs.registry import env_entry, load_suite

    env_entry(env)  # an unknown env is named as such, with the known ones
    tasks = load_suite(suite or env)
    if split:
        tasks = tasks.split(split)
    table = Table("id", "split", "goal", title=f"{tasks.name}: {len(tasks.tasks)} tasks")
    for task in tasks.tasks:
        table.add_row(task.id, task.split, task.goal[:100])
    console.print(table)


@tasks_app.command("import-agentbench-os")
def tasks_import_agentbench_os(
    path: Path = typer.Argument(..., help="An AgentBench checkout (any version), or its data/os_interaction folder."),
    out: Path = typer.Option(..., help="Suite file to write (.json or .yaml); use it as --suite."),
    split: Optional[str] = typer.Option(None, help="Put every task in this split (train/dev/test or an alias such "
                                        "as training, validation, eval); default: from each file's name."),
) -> None:
    """Convert AgentBench OS-interaction tasks into a shell task suite, scripts inlined."""
    from collections import Counter

    from coachgym.envs.shell.agentbench import import_agentbench_os

    suite = import_agentbench_os(path, split=split, name=out.stem)
    suite.save(out)
    counts = ", ".join(f"{name} {count}" for name, count in sorted(Counter(t.split for t in suite.tasks).items()))
    console.print(f"Wrote {len(suite.tasks)} tasks ({counts}) to {out}")


@app.command()
def collect(
    env: str = typer.Option(..., help="Env name (see `coachgym envs list`)."),
    agent: str = typer.Option("scripted", help="Agent spec: scripted, random, hf:PATH, openai:MODEL@URL."),
    out: Path = typer.Option(Path("runs/trajectories"), help="Store folder."),
    suite: Optional[str] = typer.Option(None, help="Suite name or file."),
    tasks: Optional[str] = typer.Option(None, help="Comma-separated task ids (default: all in --splits)."),
    splits: str = typer.Option("train", help="Comma-separated splits to collect from."),
    seeds: str = typer.Option("0", help="Comma-separated episode seeds per task."),
    workers: int = typer.Option(1, min=1, help="Worker processes, each with its own env."),
    resume: bool = typer.Option(True, help="Skip (task, seed, agent) episodes already in the store."),
    backend: str = typer.Option("process", help="Workers as local processes ('process') or Ray actors ('ray')."),
    env_server: Optional[str] = typer.Option(None, help="Run envs on a `coachgym serve-env` server at this URL "
                                                        "(token from $COACHGYM_ENV_TOKEN)."),
) -> None:
    """Run an agent over tasks and append one trajectory per episode to a store. Fails (exit 2) when
    more than 10% of the episodes ended in errors."""
    from coachgym.trajectories.collect import CollectConfig
    from coachgym.trajectories.collect import collect as run_collect
    from coachgym.trajectories.stats import check_error_share

    config = CollectConfig(env=env, agent=agent, out=out, suite=suite, tasks=_split_csv(tasks),
                           splits=_split_csv(splits), seeds=[int(s) for s in _split_csv(seeds)], workers=workers,
                           resume=resume, backend=backend, env_server=env_server)
    summary = run_collect(config)
    console.print(f"{summary.collected} collected ({summary.successes} successful), {summary.skipped} already stored "
                  f"-> {summary.out / 'trajectories.jsonl'}")
    print_problems(summary.errors)
    check_error_share(summary.failed, summary.collected, f"this collection into {out}",
                      "run the same command again: resuming plays the failed episodes again")


@traj_app.command("stats")
def traj_stats(store: Path = typer.Argument(..., help="Store folder or .jsonl file.")) -> None:
    """Counts, success rate, outcomes and lengths per env and agent."""
    from coachgym.trajectories.stats import summarize

    trajectories = _load_store(store)
    table = Table("env", "agent", "episodes", "success", "avg reward", "avg steps", "outcomes")
    for row in summarize(trajectories):
        table.add_row(row.env, row.agent, str(row.episodes), f"{row.success_rate:.1%}", f"{row.avg_reward:.3f}",
                      f"{row.avg_steps:.1f}", ", ".join(f"{k}={v}" for k, v in row.outcomes.items()))
    console.print(table)


class ExportFormat(str, Enum):
    agentinstruct = "agentinstruct"
    hf = "hf"


@traj_app.command("export")
def traj_export(
    store: Path = typer.Argument(..., help="Store folder or .jsonl file."),
    out: Path = typer.Option(..., help="Output: a .jsonl file (agentinstruct) or a folder (hf)."),
    export_format: Optional[ExportFormat] = typer.Option(
        None, "--format",
        help="agentinstruct: JSONL `conversations` rows. hf: a datasets folder TRL's SFTTrainer trains on as is "
        "(chat `messages`; screenshots as an Image column with matching image parts). "
        "Default: agentinstruct for a .jsonl --out, hf otherwise.",
    ),
    success_only: bool = typer.Option(False, help="Keep successful episodes only."),
    min_reward: Optional[float] = typer.Option(None, help="Keep episodes with at least this reward."),
) -> None:
    """Export trajectories as AgentInstruct `conversations` rows or a Hugging Face dataset."""
    from coachgym.trajectories.convert import to_agentinstruct, to_dataset
    from coachgym.trajectories.filters import TrajectoryFilter
    from coachgym.trajectories.store import TrajectoryStore

    keep = TrajectoryFilter(success=True if success_only else None, min_reward=min_reward)
    trajectories = list(keep.apply(_load_store(store)))
    if export_format is None:
        export_format = ExportFormat.agentinstruct if out.suffix == ".jsonl" else ExportFormat.hf
    if export_format is ExportFormat.agentinstruct:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8") as handle:
            for trajectory in trajectories:
                handle.write(json.dumps(to_agentinstruct(trajectory), ensure_ascii=False) + "\n")
    else:
        to_dataset(trajectories, image_root=TrajectoryStore(store).folder).save_to_disk(str(out))
    console.print(f"exported {len(trajectories)} trajectories -> {out} ({export_format.value})")


@traj_app.command("view")
def traj_view(
    store: Path = typer.Argument(..., help="Store folder or .jsonl file."),
    out: Optional[Path] = typer.Option(None, help="Folder for index.html and the episode pages (default: view/ "
                                                  "beside the store)."),
    limit: Optional[int] = typer.Option(None, help="At most this many episodes (default: all)."),
) -> None:
    """Write an index page of the episodes (filters, counts, success by task) and one page per episode."""
    from coachgym.trajectories.store import TrajectoryStore
    from coachgym.trajectories.viewer import write_view

    source = TrajectoryStore(store)
    index = write_view(_load_store(store)[:limit], source.folder, out or source.folder / "view")
    console.print(f"wrote {index}")


def _load_store(path: Path):
    from coachgym.trajectories.store import TrajectoryStore

    store = TrajectoryStore(path)
    if not store.path.exists():
        raise FileNotFoundError(f"No trajectory store at {store.path}; run `coachgym collect` first.")
    trajectories, report = store.load()
    for problem in report.problems:
        console.print(f"[yellow]skipped {store.path} {problem}[/yellow]")
    return trajectories


def _split_csv(value: Optional[str]) -> Optional[list[str]]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _register_feature_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                continue  # that feature area has no commands yet
            raise
        module.register(app)


_register_feature_commands()


if __name__ == "__main__":
    app()
