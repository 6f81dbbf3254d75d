"""The fuzzing loop: Hypothesis picks a seed and mutations, the harness judges the result.

Hypothesis runs in rounds of :data:`ROUND_EXAMPLES` examples, each round with
its own random seed, until the time budget is spent. A new violation is
raised inside Hypothesis so that it shrinks the mutation list to the fewest
and simplest changes that still fail; the smallest failing input is then
reduced further byte by byte (:func:`fuzz.minimize.minimize`). Time overruns
are recorded as they come, without shrinking: every shrink step would cost
a full timeout. Every :data:`TARGET_EVERY`-th round also hill-climbs toward
slow inputs (Hypothesis' ``target``).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from processing.extraction.limits import Limits
from tools.fuzz.harness import FUZZ_LIMITS, InvariantViolation, Verdict, check_document
from tools.fuzz.minimize import minimize
from tools.fuzz.mutations import KINDS, Mutation, apply_all
from tools.fuzz.seeds import Seed

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

ROUND_EXAMPLES = 100
#: One round in this many also hill-climbs toward slow inputs; it costs
#: examples, so the other rounds only explore.
TARGET_EVERY = 4
#: Extra time a round that found something may spend shrinking it.
SHRINK_SECONDS = 60.0
MINIMIZE_SECONDS = 30.0
_MAX_MUTATIONS = 6
#: One example in this many is processed twice to check the result is repeatable.
REPEAT_EVERY = 8


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    signature: str
    detail: str
    data: bytes
    seed: str
    mutations: tuple[Mutation, ...]
    minimized: bytes | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.signature}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:12]


@dataclass
class Stats:
    examples: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_seed_kind: Counter[str] = field(default_factory=Counter)
    #: Exceptions third-party parsers raised that the pipeline mapped to ``corrupt``.
    masked_elsewhere: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    #: Repeats of findings already recorded, by key.
    repeats: Counter[str] = field(default_factory=Counter)
    slowest: tuple[float, str] = (0.0, "")

    def to_dict(self) -> dict[str, object]:
        return {
            "examples": self.examples,
            "seconds": round(self.seconds, 1),
            "outcomes": dict(self.outcomes),
            "by_seed_kind": dict(self.by_seed_kind),
            "masked_elsewhere": dict(self.masked_elsewhere),
            "findings": [finding.key for finding in self.findings],
            "repeats": dict(self.repeats),
            "slowest": {"seconds": round(self.slowest[0], 2), "seed": self.slowest[1]},
        }


def mutation_strategy() -> SearchStrategy[Mutation]:
    """Any :class:`Mutation`; Hypothesis shrinks toward the first kind and small numbers."""
    from hypothesis import strategies as st

    return st.builds(
        Mutation,
        kind=st.sampled_from(KINDS),
        position=st.integers(0, 2**32 - 1),
        length=st.integers(0, 2**16),
        value=st.integers(0, 2**16),
        payload=st.binary(max_size=32),
        member=st.none() | st.integers(0, 63),
    )


def run(
    seconds: float,
    seeds: Sequence[Seed],
    *,
    seed: int = 0,
    limits: Limits = FUZZ_LIMITS,
    known: frozenset[str] = frozenset(),
    before_example: Callable[[bytes], None] | None = None,
    on_finding: Callable[[Finding], None] | None = None,
) -> Stats:
    """Fuzz for about ``seconds``; ``known`` finding keys are counted but not recorded again."""
    fuzzer = _Fuzzer(seeds, limits, known, before_example, on_finding)
    started = time.monotonic()
    fuzzer.stop_at = started + seconds
    round_number = 0
    while time.monotonic() < fuzzer.stop_at:
        fuzzer.run_round(seed * 1_000_003 + round_number, targeted=round_number % TARGET_EVERY == 1)
        round_number += 1
    fuzzer.stats.seconds = time.monotonic() - started
    return fuzzer.stats


class _Round:
    """What one round has found so far."""

    def __init__(self) -> None:
        #: Once something failed, the round may shrink it until then.
        self.shrinking_until: float | None = None
        self.smallest: Finding | None = None
        #: Once a result differed between two runs, every input runs twice.
        self.repeat_all = False


class _Fuzzer:
    def __init__(
        self,
        seeds: Sequence[Seed],
        limits: Limits,
        known: frozenset[str],
        before_example: Callable[[bytes], None] | None,
        on_finding: Callable[[Finding], None] | None,
    ) -> None:
        self.seeds = seeds
        self.datas = [item.data for item in seeds]
        self.limits = limits
        self.seen = set(known)
        self.before_example = before_example
        self.on_finding = on_finding
        self.stats = Stats()
        self.stop_at = 0.0

    def run_round(self, round_seed: int, *, targeted: bool) -> None:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis import seed as hypothesis_seed
        from hypothesis import strategies as st
        from hypothesis.errors import Flaky

        state = _Round()
        phases = [Phase.generate, Phase.shrink]
        if targeted:
            phases.insert(1, Phase.target)
        examples = st.tuples(
            st.integers(0, len(self.seeds) - 1),
            st.lists(mutation_strategy(), min_size=1, max_size=_MAX_MUTATIONS),
        )

        @hypothesis_seed(round_seed)
        @settings(
            max_examples=ROUND_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=phases,
            report_multiple_bugs=False,
            verbosity=Verbosity.quiet,
        )
        @given(examples)
        def prop(example: tuple[int, list[Mutation]]) -> None:
            self.check_example(state, *example)

        with contextlib.suppress(InvariantViolation, Flaky):
            prop()
        if state.smallest is not None:
            self.record(_minimized(state.smallest, self.limits))

    def check_example(self, state: _Round, index: int, mutations: list[Mutation]) -> None:
        """Judge one example; raises to make Hypothesis shrink a new violation."""
        from hypothesis import target

        if time.monotonic() > (state.shrinking_until or self.stop_at):
            return
        data = apply_all(self.datas[index], mutations, self.datas)
        if self.before_example is not None:
            self.before_example(data)
        repeat = state.repeat_all or zlib.crc32(data) % REPEAT_EVERY == 0
        try:
            verdict = check_document(data, self.limits, repeat=repeat)
        except InvariantViolation as violation:
            found = self.finding(violation, data, index, mutations)
            if self.needs_shrinking(state, found):
                raise
            return
        _count(self.stats, self.seeds[index], verdict)
        target(verdict.seconds, label="seconds")
        if verdict.masked is not None and verdict.masked_in_project:
            masked = InvariantViolation(
                "masked", verdict.masked, "an exception raised in processing/ became corrupt"
            )
            if self.needs_shrinking(state, self.finding(masked, data, index, mutations)):
                raise masked

    def finding(
        self, violation: InvariantViolation, data: bytes, index: int, mutations: list[Mutation]
    ) -> Finding:
        return Finding(
            violation.kind,
            violation.signature,
            violation.detail,
            data,
            self.seeds[index].name,
            tuple(mutations),
        )

    def needs_shrinking(self, state: _Round, finding: Finding) -> bool:
        """Count a known finding, record an overrun, or keep a new one to shrink."""
        if finding.key in self.seen:
            self.stats.repeats[finding.key] += 1
            return False
        if finding.kind == "overrun":
            # Shrinking would cost a full timeout per step.
            self.record(finding)
            return False
        if finding.kind == "nondeterministic":
            state.repeat_all = True
        if state.shrinking_until is None:
            state.shrinking_until = max(self.stop_at, time.monotonic()) + SHRINK_SECONDS
        best = state.smallest
        size = (len(finding.mutations), len(finding.data))
        if best is None or (
            best.key == finding.key and size < (len(best.mutations), len(best.data))
        ):
            state.smallest = finding
        return True

    def record(self, finding: Finding) -> None:
        self.seen.add(finding.key)
        self.stats.findings.append(finding)
        if self.on_finding is not None:
            self.on_finding(finding)


def _count(stats: Stats, seed: Seed, verdict: Verdict) -> None:
    stats.examples += 1
    stats.outcomes[verdict.outcome] += 1
    stats.by_seed_kind[seed.kind] += 1
    if verdict.masked is not None and not verdict.masked_in_project:
        stats.masked_elsewhere[verdict.masked] += 1
    if verdict.seconds > stats.slowest[0]:
        stats.slowest = (verdict.seconds, seed.name)


def _minimized(finding: Finding, limits: Limits) -> Finding:
    repeat = finding.kind == "nondeterministic"

    def still_fails(candidate: bytes) -> bool:
        try:
            verdict = check_document(candidate, limits, repeat=repeat)
        except InvariantViolation as violation:
            return f"{violation.kind}:{violation.signature}" == finding.key
        return finding.kind == "masked" and verdict.masked == finding.signature

    smaller = minimize(finding.data, still_fails, seconds=MINIMIZE_SECONDS)
    return Finding(
        finding.kind,
        finding.signature,
        finding.detail,
        finding.data,
        finding.seed,
        finding.mutations,
        minimized=smaller,
    )
