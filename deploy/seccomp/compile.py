#!/usr/bin/python3
"""Compiles a seccomp profile in the OCI/Docker JSON format (the format of Kubernetes Localhost
profiles and `docker --security-opt seccomp=FILE`) into a classic BPF program for this machine's
architecture and its compatibility ABIs, with libseccomp (Debian: python3-seccomp).

  compile.py PROFILE                 the BPF program on stdout, for `bwrap --seccomp FD`
  compile.py PROFILE -- COMMAND...   runs COMMAND under the profile (the tests use it to run the
                                     sandbox as a container with that profile would)

Supported: defaultAction, defaultErrnoRet, archMap (the native architecture's subArchitectures
are added too), and syscalls entries with names, action (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO,
SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_LOG), errnoRet and args (index, value, valueTwo,
op). Anything else in an entry (includes, excludes, a syscall libseccomp does not know) is an
error rather than a rule silently left out: a filter that is weaker than its file says must not
load.
"""
import errno
import json
import os
import sys

import seccomp

ARCHES = {
    "SCMP_ARCH_X86_64": seccomp.Arch.X86_64,
    "SCMP_ARCH_X86": seccomp.Arch.X86,
    "SCMP_ARCH_X32": seccomp.Arch.X32,
    "SCMP_ARCH_AARCH64": seccomp.Arch.AARCH64,
    "SCMP_ARCH_ARM": seccomp.Arch.ARM,
}
OPS = {
    "SCMP_CMP_NE": seccomp.NE,
    "SCMP_CMP_LT": seccomp.LT,
    "SCMP_CMP_LE": seccomp.LE,
    "SCMP_CMP_EQ": seccomp.EQ,
    "SCMP_CMP_GE": seccomp.GE,
    "SCMP_CMP_GT": seccomp.GT,
    "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ,
}
SUPPORTED_ENTRY_KEYS = {"names", "action", "errnoRet", "args", "comment"}


def action(name, errno_ret):
    if name == "SCMP_ACT_ALLOW":
        return seccomp.ALLOW
    if name == "SCMP_ACT_ERRNO":
        return seccomp.ERRNO(errno.EPERM if errno_ret is None else errno_ret)
    if name == "SCMP_ACT_KILL":
        return seccomp.KILL
    if name == "SCMP_ACT_KILL_PROCESS":
        return seccomp.KILL_PROCESS
    if name == "SCMP_ACT_LOG":
        return seccomp.LOG
    raise ValueError(f"unsupported action {name}")


def build(profile):
    default = action(profile["defaultAction"], profile.get("defaultErrnoRet"))
    f = seccomp.SyscallFilter(default)
    # libseccomp reports the native architecture unsigned and takes its constants signed.
    native = seccomp.system_arch() & 0xFFFFFFFF
    for entry in profile.get("archMap", []):
        if ARCHES[entry["architecture"]] & 0xFFFFFFFF != native:
            continue
        for sub in entry.get("subArchitectures", []):
            f.add_arch(ARCHES[sub])
    for entry in profile.get("syscalls", []):
        unknown = set(entry) - SUPPORTED_ENTRY_KEYS
        if unknown:
            raise ValueError(f"unsupported keys {sorted(unknown)} in {entry['names']}")
        act = action(entry["action"], entry.get("errnoRet"))
        args = [
            seccomp.Arg(a["index"], OPS[a["op"]], a["value"], *([a["valueTwo"]] if a["op"] == "SCMP_CMP_MASKED_EQ" else []))
            for a in entry.get("args", [])
        ]
        for name in entry["names"]:
            if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) == -1:
                raise ValueError(f"libseccomp does not know the syscall {name}")
            f.add_rule(act, name, *args)
    return f


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: compile.py PROFILE [-- COMMAND...]\n")
        return 2
    with open(argv[1], encoding="utf-8") as file:
        f = build(json.load(file))
    if len(argv) > 3 and argv[2] == "--":
        f.load()
        os.execvp(argv[3], argv[3:])
    f.export_bpf(sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
