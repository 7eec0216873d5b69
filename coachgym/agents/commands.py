"""CLI commands of the agents area: `play` (a person collects a trajectory), `serve-env` (the HTTP
env server) and `serve-model` (a local model behind the OpenAI-compatible API).

`coachgym.cli` calls `register(app)`; the commands only parse options and call library code.
"""

from __future__ import annotations

import os
import webbrowser
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

console = Console()


def play(
    env: str = typer.Option(..., help="Env name: shell, database, guess (terminal) or browser, phone "
                                      "(web page)."),
    task: Optional[str] = typer.Option(None, help="Task id (default: picked from the suite by --seed)."),
    suite: Optional[str] = typer.Option(None, help="Suite name or file (default: the env's built-in suite)."),
    seed: int = typer.Option(0, help="Episode seed."),
    out: Path = typer.Option(Path("runs/human"), help="Store folder the trajectory is appended to."),
    web: Optional[bool] = typer.Option(None, help="Force the web page (default: for envs with screenshots)."),
    port: int = typer.Option(8765, help="Port of the web page (127.0.0.1 only)."),
    open_browser: bool = typer.Option(True, help="Open the web page in the default browser."),
) -> None:
    """Play one episode yourself; it is recorded like a model's (same prompts, vocabulary, record)."""
    from coachgym.agents.human import TerminalHumanAgent, WebHumanAgent
    from coachgym.envs.registry import make, register_all
    from coachgym.trajectories.rollout import run_episode
    from coachgym.trajectories.store import TrajectoryStore

    register_all()
    environment = make(env, **({"suite": suite} if suite else {}))
    base = environment.unwrapped
    task_id = task or base.suite.tasks[seed % len(base.suite.tasks)].id
    use_web = web if web is not None else base.screenshot_shape is not None
    if use_web:
        agent = WebHumanAgent(port=port)
        console.print(f"Open {agent.url} to play (Ctrl+C to stop).")
        if open_browser:
            webbrowser.open(agent.url)
    else:
        agent = TerminalHumanAgent()
    agent.name = "human-web" if use_web else "human"
    store = TrajectoryStore(out)
    try:
        trajectory = run_episode(environment, agent, task_id, seed, store=store)
    finally:
        agent.close()
        environment.close()
    store.append(trajectory)
    console.print(f"\n{trajectory.outcome.value}: success={trajectory.success} reward={trajectory.reward:.2f} "
                  f"in {len(trajectory.steps)} steps -> {store.path}")
    if "error" in trajectory.metadata:
        console.print(trajectory.metadata["error"], markup=False)


def serve_env(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for other machines)."),
    port: int = typer.Option(8100),
    token: Optional[str] = typer.Option(None, help="Bearer token clients must send (default: $COACHGYM_ENV_TOKEN, "
                                                   "else a new random one, printed)."),
    lease_s: float = typer.Option(60.0, help="Close a session not heard from for this long (its client died)."),
    max_sessions: int = typer.Option(32, help="Most env instances at once."),
    envs: Optional[str] = typer.Option(None, help="Comma-separated envs to offer (default: all)."),
    max_body_mb: float = typer.Option(4.0, help="Largest request body accepted, in MB (larger ones get 413)."),
) -> None:
    """Run envs for remote clients (`coachgym.envs.server.RemoteEnv`) over HTTP."""
    import uvicorn

    from coachgym.envs.server import TOKEN_ENV_VAR, EnvServer, new_token

    token = token or os.environ.get(TOKEN_ENV_VAR) or new_token()
    offered = [e.strip() for e in envs.split(",")] if envs else None
    server = EnvServer(token, lease_s=lease_s, max_sessions=max_sessions, envs=offered,
                       max_body_bytes=int(max_body_mb * 2**20))
    console.print(f"env server on http://{host}:{port}  token: {token}  (clients: {TOKEN_ENV_VAR}=<token>)")
    try:
        uvicorn.run(server.app, host=host, port=port, log_level="warning")
    finally:
        server.shutdown()


def serve_model(
    path: str = typer.Argument(..., help="Local checkpoint folder or hub id (transformers causal LM or coachgym VLM)."),
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    name: Optional[str] = typer.Option(None, help="Model name clients use (default: PATH)."),
    api_key: Optional[str] = typer.Option(None, help="Bearer key clients must send (default: $COACHGYM_MODEL_KEY, "
                                                     "else a new random one, printed)."),
    no_auth: bool = typer.Option(False, "--no-auth", help="Serve without a key: anyone who can reach the port may "
                                                          "use the model. Only for a trusted machine."),
    max_batch: int = typer.Option(16, help="Most requests generated together."),
    max_tokens: int = typer.Option(4096, help="Most tokens one completion may generate (larger requests are capped)."),
    max_body_mb: float = typer.Option(32.0, help="Largest request body accepted, in MB (larger ones get 413)."),
    max_image_pixels: int = typer.Option(4096 * 4096, help="Most decoded image pixels in one request (400 above)."),
    device: str = typer.Option("cpu"),
) -> None:
    """Serve a model through the OpenAI chat-completions API, batching concurrent requests."""
    from coachgym.agents.serve import KEY_ENV_VAR
    from coachgym.agents.serve import serve_model as run
    from coachgym.envs.server import new_token

    if no_auth and api_key:
        raise typer.BadParameter("Pass either --api-key or --no-auth, not both.")
    key = None if no_auth else api_key or os.environ.get(KEY_ENV_VAR)
    if not no_auth and not key:
        key = new_token()
        console.print(f"API key: {key}  (clients: OPENAI_API_KEY=<key>, or --api-key / ${KEY_ENV_VAR} to choose it)")
    console.print(f"serving {path} on http://{host}:{port}/v1 (agents: openai:{name or path}@http://{host}:{port}/v1)"
                  + ("  without an API key (--no-auth)" if no_auth else ""))
    run(path, key, host=host, port=port, served_name=name, max_batch=max_batch, device=device, max_tokens=max_tokens,
        max_body_bytes=int(max_body_mb * 2**20), max_image_pixels=max_image_pixels)


def register(app: typer.Typer) -> None:
    app.command("play")(play)
    app.command("serve-env")(serve_env)
    app.command("serve-model")(serve_model)
