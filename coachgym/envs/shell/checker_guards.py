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

import hashlib

NUMBER = r"^[[:space:]]*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?[[:space:]]*$"
INTEGER = r"^[[:space:]]*[0-9]+[[:space:]]*$"

# SHA-256 of an upstream checker's text -> {agent command: form of its output}. Keyed by content,
# so the guard follows the file into any checkout, group folder or name (v0.2 ships `count`'s
# checker as both `5/checking/1.sh` and `<group>/check/1.sh`).
GUARDED_CHECKERS: dict[str, dict[str, str]] = {
    "bc75b2778c644ec42abb46abec6eadf52812f10c02255a1c3b2b55c3ced0ae0c": {"calc": NUMBER},  # dev/check/0.sh
    "8ddd84de17464a4b6a37e96f5d6ac937ce1dd5c5196eed78bd5a55487d5b67d1": {"calc": NUMBER},  # 5/checking/0.sh
    "65ee4f3754ec893af569af2a8d97c232e2952cb884238b3dbf94e34e4001835c": {"count": INTEGER},  # check/1.sh
}
_DELIMITER = "__COACHGYM_VENDORED_CHECKER__"


def guard_for(code: str) -> dict[str, str] | None:
    """The guard an upstream checker needs, or None when its text is not one of the known ones."""
    return GUARDED_CHECKERS.get(hashlib.sha256(code.encode("utf-8")).hexdigest())


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
