"""Confining a freshly forked worker before it reads an untrusted document.

Applied in this order, each step best effort where the platform lacks it
(what was applied is reported back to the pool, which logs it once):

1. Resource limits: address space, CPU time, file size, no core dumps, a few
   file descriptors, and no new processes (``RLIMIT_NPROC``).
2. Running as root (as Azure Functions' Linux containers do): drop to
   ``nobody``, so the worker can read no other process's ``/proc`` files
   (the host's environment among them) and write nothing the host owns.
3. ``PR_SET_NO_NEW_PRIVS``: no privilege can be regained through exec.
4. Landlock (Linux 5.13+): reads only below the Python installation and the
   system libraries, writes only in the worker's private temporary folder, no
   TCP bind or connect (ABI 4+), no signals or abstract sockets outside its
   own domain (ABI 6+). There is no maintained Python library for Landlock;
   these are its three documented system calls, made with ctypes.
5. seccomp (libseccomp through ``pyseccomp``): no fork or exec, no sockets,
   no ptrace, no signals to other processes, no namespaces or mounts.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType


# Loaded now, in the zygote: once a worker is confined, finding and loading
# libseccomp (ctypes runs ldconfig for it) would no longer be possible.
def _load_seccomp() -> ModuleType | None:
    try:
        import pyseccomp
    except (ImportError, OSError):  # the package, or libseccomp itself, is missing
        return None
    module: ModuleType = pyseccomp
    return module


_seccomp_library = _load_seccomp()

NOBODY = 65534
MAX_OPEN_FILES = 64
#: A parser writing temporary files may write this much in all.
MAX_FILE_BYTES = 64 * 1024 * 1024

_PR_SET_NO_NEW_PRIVS = 38
_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1

# Filesystem access rights, by the ABI that introduced them.
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_ABI1 = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_FS_IOCTL_DEV = 1 << 15  # ABI 5
_NET_BIND_CONNECT_TCP = 0b11  # ABI 4
_SCOPE_ABSTRACT_UNIX_AND_SIGNAL = 0b11  # ABI 6
_READ = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV

_CLONE_THREAD = 0x00010000
_DENIED_SYSCALLS = (
    "fork", "vfork", "execve", "execveat",
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "ptrace", "process_vm_readv", "process_vm_writev", "tkill",
    "setsid", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
    "keyctl", "add_key", "request_key",
    "init_module", "finit_module", "delete_module", "kexec_load", "reboot",
)  # fmt: skip


def confine(
    *, memory_bytes: int, cpu_seconds: int, workdir: Path, readable: Iterable[Path]
) -> list[str]:
    """Confine this process; returns the names of the protections applied.

    ``readable`` comes from :func:`readable_roots`, computed once by the zygote.
    """
    applied = [_limit_resources(memory_bytes, cpu_seconds)]
    if os.geteuid() == 0 and _others_can_read(readable):
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        applied.append("nobody")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
        applied.append("no_new_privs")
    if _landlock(libc, readable=readable, writable=[workdir]):
        applied.append("landlock")
    if _seccomp():
        applied.append("seccomp")
    return applied


def _limit_resources(memory_bytes: int, cpu_seconds: int) -> str:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # The soft limit sends SIGXCPU (a timeout); the hard one, a second later, kills.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (MAX_OPEN_FILES, MAX_OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    return "rlimits"


def readable_roots() -> list[Path]:
    """Where a parser may still need to read: Python and its packages (modules,
    codecs and data files load lazily), and the system's shared libraries."""
    roots = {Path(p) for p in sys.path if p}
    roots |= {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    roots |= {Path(p) for p in ("/usr", "/lib", "/lib64", "/etc/ld.so.cache", "/dev/null")}
    return sorted(root.resolve() for root in roots if root.exists())


def _others_can_read(roots: Iterable[Path]) -> bool:
    """Whether ``nobody`` could still load Python after the switch: every root
    readable by others and every folder above it searchable. A Python kept in
    root's home (pyenv in /root) is not, and then the worker stays root but is
    still held by Landlock and seccomp."""
    for root in roots:
        for folder in (root, *root.parents):
            mode = folder.stat().st_mode
            needed = stat.S_IROTH | stat.S_IXOTH if folder == root else stat.S_IXOTH
            if folder == root and not folder.is_dir():
                needed = stat.S_IROTH
            if mode & needed != needed:
                return False
    return True


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _landlock(libc: ctypes.CDLL, *, readable: Iterable[Path], writable: Iterable[Path]) -> bool:
    abi = libc.syscall(
        _SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), _LANDLOCK_CREATE_RULESET_VERSION
    )
    if abi < 1:
        return False  # not built into this kernel, or disabled
    handled = _FS_ABI1
    size = 8
    attr = _RulesetAttr(0, 0, 0)
    if abi >= 2:
        handled |= _FS_REFER
    if abi >= 3:
        handled |= _FS_TRUNCATE
    if abi >= 4:
        attr.handled_access_net = _NET_BIND_CONNECT_TCP
        size = 16
    if abi >= 5:
        handled |= _FS_IOCTL_DEV
    if abi >= 6:
        attr.scoped = _SCOPE_ABSTRACT_UNIX_AND_SIGNAL
        size = 24
    attr.handled_access_fs = handled
    ruleset = libc.syscall(
        _SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0
    )
    if ruleset < 0:
        return False
    try:
        rules = [(path, _READ) for path in readable] + [(path, handled) for path in writable]
        for path, wanted in rules:
            # A rule on a file (not a folder) may only grant file rights.
            access = (wanted if path.is_dir() else wanted & _FILE_RIGHTS) & handled
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                added = libc.syscall(
                    _SYS_LANDLOCK_ADD_RULE,
                    ruleset,
                    _LANDLOCK_RULE_PATH_BENEATH,
                    ctypes.byref(_PathBeneathAttr(access, fd)),
                    0,
                )
            finally:
                os.close(fd)
            if added < 0:
                return False
        return bool(libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) == 0)
    finally:
        os.close(ruleset)


def _seccomp() -> bool:
    seccomp = _seccomp_library
    if seccomp is None:
        return False
    refuse = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in _DENIED_SYSCALLS:
        try:
            rules.add_rule(refuse, name)
        except (ValueError, OSError):
            continue  # not a system call on this architecture (fork on arm64)
    # Threads (CLONE_THREAD) stay possible; new processes do not. clone3's
    # flags are out of seccomp's reach, so it reports itself missing and libc
    # falls back to clone.
    rules.add_rule(refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, _CLONE_THREAD, 0))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    own = os.getpid()
    for name in ("kill", "tgkill"):
        rules.add_rule(refuse, name, seccomp.Arg(0, seccomp.NE, own))
    rules.load()
    return True
