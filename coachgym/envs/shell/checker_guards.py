"""Guards for vendored AgentBench checkers that would run the agent's output as code.

Two upstream checkers call a command the agent wrote and splice its output into code unquoted:
`calc`'s output goes into `python3 -c "print(abs($output - $expected)<1e-5)"` (so `0)<1 or (0`
passes every case), and `count`'s output is word-split inside `[ ... ]` (so `1 2 3` makes `[`
fail with a syntax error, which the checker takes as a pass). The files stay unmodified; the
loader wraps them: the checker runs as its own `bash -c` process, with the agent's command
replaced by an exported function that runs it and passes its output on only when it matches the
answer's form (a number), else a word that fails the comparison.

This module only builds wrapper text; it must not run anything.
"""

from __future__ import annotations

NUMBER = r"^[[:space:]]*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?[[:space:]]*$"
INTEGER = r"^[[:space:]]*[0-9]+[[:space:]]*$"

# Vendored checker (path under data/agentbench_os/scripts) -> {agent command: form of its output}.
GUARDED_CHECKERS: dict[str, dict[str, str]] = {
    "dev/check/0.sh": {"calc": NUMBER},
    "5/checking/0.sh": {"calc": NUMBER},
    "5/checking/1.sh": {"count": INTEGER},
}
_DELIMITER = "__COACHGYM_VENDORED_CHECKER__"


def guarded(code: str, commands: dict[str, str]) -> str:
    """Bash that runs the checker `code` unmodified, its argv passed on, with each command in
    `commands` answering only output that matches its pattern."""
    if _DELIMITER in code:
        raise ValueError("The checker contains the guard's here-document delimiter.")
    lines = ["__cg_only() {",
             '  local pattern=$1 out status; shift; out=$(command "$@"); status=$?',
             '  if [[ $out =~ $pattern ]]; then printf "%s\\n" "$out"; else echo not-a-number; fi',
             "  return $status",
             "}"]
    for name, pattern in commands.items():
        lines.append(f"{name}() {{ __cg_only '{pattern}' {name} \"$@\"; }}")
    lines += [f"export -f __cg_only {' '.join(commands)}",
              f"IFS= read -r -d '' __cg_checker <<'{_DELIMITER}'", code.rstrip("\n"), _DELIMITER,
              'exec bash -c "$__cg_checker" "$0" "$@"']
    return "\n".join(lines) + "\n"
