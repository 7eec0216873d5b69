"""The seccomp filter of the bwrap sandbox: no process inside may reach into another one's memory.

Every sandbox process is root with the same capabilities, so without this filter any of them
could `ptrace` the session shell, read its memory with `process_vm_readv`, or copy its file
descriptors with `pidfd_getfd`, and from there forge the end of a command (see session.py).
The filter makes exactly those calls fail with EPERM, for the native ABI and the 32-bit one the
kernel also accepts; `/proc/<pid>/mem` of the shell is covered separately by a mount (bwrap.py).

This module only assembles the classic-BPF program that `bwrap --seccomp FD` loads.
"""

from __future__ import annotations

import errno
import platform
import struct

# struct seccomp_data: int nr at offset 0, __u32 arch at offset 4.
_LOAD_NR, _LOAD_ARCH = (0x20, 0), (0x20, 4)  # BPF_LD | BPF_W | BPF_ABS
_JEQ, _JGE, _RET = 0x15, 0x35, 0x06  # BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_JGE | BPF_K, BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_DENY = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO
_X32_BIT = 0x40000000

# (AUDIT_ARCH, syscall numbers of ptrace, process_vm_readv, process_vm_writev, pidfd_getfd)
_ABIS = {
    "x86_64": [(0xC000003E, (101, 310, 311, 438)), (0x40000003, (26, 347, 348, 438))],  # + i386
    "aarch64": [(0xC00000B7, (117, 270, 271, 438)), (0x40000028, (26, 376, 377, 438))],  # + arm
}


def _instruction(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _arch_block(arch: int, numbers: tuple[int, ...], x32: bool) -> list[bytes]:
    """Checks for one ABI: deny the listed calls (and, on x86_64, the whole x32 ABI), allow the rest."""
    tests = [(_JGE, _X32_BIT)] if x32 else []
    tests += [(_JEQ, number) for number in numbers]
    body = [_instruction(*_LOAD_NR)]
    for index, (code, value) in enumerate(tests):
        to_deny = len(tests) - index  # skip the remaining tests and the allow
        body.append(_instruction(code, value, jt=to_deny, jf=0))
    body += [_instruction(_RET, _ALLOW), _instruction(_RET, _DENY)]
    return [_instruction(_JEQ, arch, jt=0, jf=len(body)), *body]


def filter_program(machine: str | None = None) -> bytes:
    """The BPF program for this machine's ABIs; calls from any other ABI are refused."""
    machine = machine or platform.machine()
    if machine not in _ABIS:
        raise ValueError(f"The shell sandbox's seccomp filter knows {sorted(_ABIS)}, not {machine!r}; "
                         "use SandboxConfig(backend='docker') on this machine.")
    program = [_instruction(*_LOAD_ARCH)]
    for index, (arch, numbers) in enumerate(_ABIS[machine]):
        program += _arch_block(arch, numbers, x32=machine == "x86_64" and index == 0)
    program.append(_instruction(_RET, _DENY))
    return b"".join(program)
