"""The dependency locks: every package pinned with hashes, every input satisfied.

`make lock-check` proves a lock is exactly what compiling its input gives (it
asks the package index); these checks need no network and say which line is
wrong: a requirement of an ``.in`` file with no pin in its lock, or a pin that
does not satisfy it, or a pin without a hash (pip would then refuse the whole
install in hash-checking mode).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ("requirements.txt", "requirements-dev.txt", "requirements-infra.txt")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock: Path) -> dict[str, tuple[str, int]]:
    """Each pinned package of a lock: its version and how many hashes follow it."""
    found: dict[str, tuple[str, int]] = {}
    current = None
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            found[current] = (match.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
    return found


def requirements(source: Path) -> list[Requirement]:
    """The requirements an ``.in`` file names, following ``-r`` includes."""
    found = []
    for raw in source.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-c"):
            continue
        if line.startswith("-r"):
            found += requirements(source.parent / line[2:].strip())
            continue
        found.append(Requirement(line))
    return found


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_carries_hashes(lock: str) -> None:
    """pip's hash-checking mode refuses an install if any package lacks one."""
    locked = pins(ROOT / lock)
    assert locked
    assert [name for name, (_, hashes) in locked.items() if hashes == 0] == []


@pytest.mark.parametrize("lock", LOCKS)
def test_every_input_requirement_is_pinned_within_its_range(lock: str) -> None:
    """Each line of the ``.in`` file has a pin in the lock that satisfies it."""
    locked = pins(ROOT / lock)
    source = ROOT / lock.replace(".txt", ".in")
    problems = []
    for requirement in requirements(source):
        if requirement.marker is not None and not requirement.marker.evaluate(
            {"python_version": "3.11", "sys_platform": "linux", "platform_machine": "x86_64"}
        ):
            continue
        pinned = locked.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned[0], prereleases=True):
            problems.append(f"{requirement} -> {pinned[0] if pinned else 'not pinned'}")
    assert problems == []


def test_the_dev_lock_pins_the_runtime_set_at_the_same_versions() -> None:
    """Tests run against exactly what Azure installs."""
    runtime = {name: version for name, (version, _) in pins(ROOT / LOCKS[0]).items()}
    dev = {name: version for name, (version, _) in pins(ROOT / LOCKS[1]).items()}
    assert {name: dev.get(name) for name in runtime} == runtime
