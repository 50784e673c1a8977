"""Guarded rollouts: watch each guarded flag's outcomes, trip on a regression, act at once.

A flag whose rollout carries a guard (``plan.Guard``) gets a ``Monitor``
when its snapshot is published. The monitor reads the outcome store
(``outcomes.py``) from the moment it started, compares every treatment
variant with the control on every metric with the sequential test of
``sequential.py`` (the guard's ``alpha`` split evenly over the
comparisons), and trips when one of them crosses. The store calls
``Guards.check`` at most every ``interval`` seconds from a recording
thread; ``Client.check_guards`` runs it on demand.

A trip is acted on before anyone is told: the client republishes its
snapshot with the flag rolled back to the control or its ramp paused
(``_core.guarded``), then a WARNING is logged, an OpenTelemetry span event
is recorded (when ``opentelemetry`` is installed), and ``on_guard``
listeners run with the ``GuardTrip``. A trip is sticky: every later
snapshot with the same definition of the flag is republished tripped,
until the definition changes or ``Client.reset_guard`` is called.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from flagkit._client.latency import bucket_floor, quantile_bucket, share_above
from flagkit._client.outcomes import OutcomeTotals
from flagkit._client.sequential import (
    Difference,
    log_e_value,
    lower_bound,
    mean_difference,
    proportion_difference,
    rate_difference,
)
from flagkit._core.guarded import guarded_ramp_time, paused, recompiled, rolled_back, with_flags
from flagkit._core.plan import Guard, Metric
from flagkit._core.snapshot import CompiledFlag, Snapshot

if TYPE_CHECKING:
    from flagkit._client.outcomes import Outcomes

__all__ = ["Evidence", "GuardStatus", "GuardTrip", "Guards", "Monitor", "compare"]

logger = logging.getLogger("flagkit")

GuardState = Literal["watching", "tripped"]
_NO_TOTALS = OutcomeTotals()


@dataclass(frozen=True, slots=True)
class Evidence:
    """One comparison of a treatment variant with the control on one metric.

    ``estimate`` is treatment minus control in the metric's units;
    ``interval`` the always-valid confidence interval of that difference on
    the worse side (one end infinite); ``e_value`` the test statistic, which
    trips the guard at ``threshold`` (1 / the comparison's alpha).
    """

    metric: str
    variant: str
    control: str
    treatment_value: float
    control_value: float
    n_treatment: int
    n_control: int
    e_value: float
    threshold: float
    worse: Literal["higher", "lower"]
    variance: float = field(repr=False)
    effect: float = field(repr=False)

    @property
    def estimate(self) -> float:
        """Return treatment minus control."""
        return self.treatment_value - self.control_value

    @property
    def tripped(self) -> bool:
        """Return True when this comparison shows a regression."""
        return self.e_value >= self.threshold

    @property
    def interval(self) -> tuple[float, float]:
        """Return the always-valid confidence interval of ``estimate`` (worse side bounded)."""
        signed = self.estimate if self.worse == "higher" else -self.estimate
        bound = lower_bound(signed, self.variance, self.effect, 1.0 / self.threshold)
        return (bound, math.inf) if self.worse == "higher" else (-math.inf, -bound)

    def describe(self) -> str:
        """Return one line: the metric, both values, the difference and its bound."""
        low, high = self.interval
        bound = f">= {low:.4g}" if self.worse == "higher" else f"<= {high:.4g}"
        return (
            f"{self.metric}: {self.variant} {self.treatment_value:.4g} vs {self.control} "
            f"{self.control_value:.4g} (difference {self.estimate:+.4g}, {bound} always-valid; "
            f"e-value {self.e_value:.3g} vs {self.threshold:.3g}; "
            f"n={self.n_treatment}/{self.n_control})"
        )


@dataclass(frozen=True, slots=True)
class GuardTrip:
    """A guard that tripped: which flag, what it did, and the comparison that showed it."""

    flag_key: str
    action: Literal["pause", "rollback"]
    control: str
    evidence: Evidence
    at: float

    @property
    def variant(self) -> str:
        """Return the variant found worse than the control."""
        return self.evidence.variant

    @property
    def metric(self) -> str:
        """Return the metric on which it was worse."""
        return self.evidence.metric


@dataclass(frozen=True, slots=True)
class GuardStatus:
    """A guarded flag as ``Client.status()`` shows it: state, evidence, outcomes.

    ``outcomes`` are each variant's since ``since`` (the guard's start);
    ``latency_threshold`` is what "slow" means for a latency metric, in
    seconds (None until learned from the control's first calls).
    """

    flag_key: str
    action: Literal["pause", "rollback"]
    control: str
    state: GuardState
    trip: GuardTrip | None
    evidence: tuple[Evidence, ...]
    outcomes: Mapping[str, OutcomeTotals]
    since: float
    latency_threshold: float | None = None


def compare(
    metric: Metric,
    variant: str,
    control: str,
    treatment: OutcomeTotals,
    baseline: OutcomeTotals,
    *,
    alpha: float,
    min_sample: int,
    slow_above: int | None = None,
) -> Evidence | None:
    """Return the evidence of one comparison, or None while a sample is too small.

    ``slow_above`` is the latency metric's threshold bucket (None: not
    learned yet).
    """
    difference: Difference | None = None
    n_t = n_c = 0
    if metric.kind == "error_rate":
        n_t, n_c = treatment.calls, baseline.calls
        if min(n_t, n_c) >= min_sample:
            difference = proportion_difference(treatment.errors, n_t, baseline.errors, n_c)
    elif metric.kind == "latency":
        if slow_above is not None:
            slow_t, n_t = share_above(treatment.histogram, slow_above)
            slow_c, n_c = share_above(baseline.histogram, slow_above)
            if min(n_t, n_c) >= min_sample:
                difference = proportion_difference(slow_t, n_t, slow_c, n_c)
    else:
        assert metric.event is not None
        events_t = treatment.events.get(metric.event)
        events_c = baseline.events.get(metric.event)
        if metric.kind == "event_rate":
            n_t, n_c = treatment.calls, baseline.calls
            if min(n_t, n_c) >= min_sample:
                difference = rate_difference(
                    events_t.count if events_t else 0, n_t, events_c.count if events_c else 0, n_c
                )
        elif events_t is not None and events_c is not None:
            n_t, n_c = events_t.values, events_c.values
            if min(n_t, n_c) >= max(min_sample, 2):
                difference = mean_difference(
                    (n_t, events_t.total, events_t.squares),
                    (n_c, events_c.total, events_c.squares),
                )
    if difference is None:
        return None
    signed = difference.estimate if metric.worse == "higher" else -difference.estimate
    log_e = log_e_value(signed, difference.variance, metric.effect)
    return Evidence(
        metric=metric.label,
        variant=variant,
        control=control,
        treatment_value=difference.treatment,
        control_value=difference.control,
        n_treatment=n_t,
        n_control=n_c,
        e_value=math.exp(min(log_e, 700.0)),
        threshold=1.0 / alpha,
        worse=metric.worse,
        variance=difference.variance,
        effect=metric.effect,
    )


class Monitor:
    """One guarded flag (one definition of it): its baseline, evidence and trip."""

    def __init__(self, flag: CompiledFlag, guard: Guard, totals: Mapping[str, OutcomeTotals]):
        self.flag_key = flag.key
        self.fingerprint = flag.fingerprint
        self.plan = flag.plan  # the definition's own plan, never the tripped one
        self.guard = guard
        self.comparisons = max(len(guard.metrics) * len(guard.treatments), 1)
        self.trip: GuardTrip | None = None
        self.held_at: float | None = None
        self.evidence: tuple[Evidence, ...] = ()
        self.start(totals)

    def start(self, totals: Mapping[str, OutcomeTotals]) -> None:
        """Start over from ``totals``: no trip, no evidence, the latency threshold unlearned."""
        self.baseline = dict(totals)
        self.since = time.time()
        self.trip = None
        self.held_at = None
        self.evidence = ()
        self.slow_above: int | None = None
        self.latency_baseline: dict[str, OutcomeTotals] = {}
        self.recent: dict[str, OutcomeTotals] = {}

    def examine(self, totals: Mapping[str, OutcomeTotals]) -> Evidence | None:
        """Update the evidence from ``totals``; return the comparison that trips, if any."""
        guard = self.guard
        recent = {v: t - self.baseline.get(v, _NO_TOTALS) for v, t in totals.items()}
        self.recent = recent
        if self.slow_above is None and any(m.kind == "latency" for m in guard.metrics):
            self._learn_latency(recent)
        alpha = guard.alpha / self.comparisons
        evidence: list[Evidence] = []
        for metric in guard.metrics:
            base = recent.get(guard.control, _NO_TOTALS)
            if metric.kind == "latency":
                base = base - self.latency_baseline.get(guard.control, _NO_TOTALS)
            for variant in guard.treatments:
                treated = recent.get(variant, _NO_TOTALS)
                if metric.kind == "latency":
                    treated = treated - self.latency_baseline.get(variant, _NO_TOTALS)
                found = compare(
                    metric,
                    variant,
                    guard.control,
                    treated,
                    base,
                    alpha=alpha,
                    min_sample=guard.min_sample,
                    slow_above=self.slow_above,
                )
                if found is not None:
                    evidence.append(found)
        self.evidence = tuple(evidence)
        tripping = [e for e in evidence if e.tripped]
        return max(tripping, key=lambda e: e.e_value) if tripping else None

    def _learn_latency(self, recent: Mapping[str, OutcomeTotals]) -> None:
        """Learn the control's latency quantile once it has ``min_sample`` timed calls."""
        control = recent.get(self.guard.control, _NO_TOTALS)
        if sum(control.histogram.values()) < self.guard.min_sample:
            return
        quantile = next(m.quantile for m in self.guard.metrics if m.kind == "latency")
        self.slow_above = quantile_bucket(control.histogram, quantile)
        self.latency_baseline = dict(recent)

    def status(self) -> GuardStatus:
        """Return what ``Client.status()`` shows of this guard."""
        return GuardStatus(
            flag_key=self.flag_key,
            action=self.guard.action,
            control=self.guard.control,
            state="watching" if self.trip is None else "tripped",
            trip=self.trip,
            evidence=self.evidence,
            outcomes=MappingProxyType(dict(self.recent)),
            since=self.since,
            latency_threshold=(
                None if self.slow_above is None else bucket_floor(self.slow_above + 1) / 1e9
            ),
        )


Listener = Callable[[GuardTrip], object]


class Guards:
    """The guards of one client: monitors per guarded flag, trips, listeners."""

    def __init__(self, outcomes_for: Callable[[], Outcomes], republish: Callable[[], None]):
        self._outcomes_for = outcomes_for
        self._republish = republish
        self.monitors: dict[str, Monitor] = {}
        self.listeners: list[Listener] = []
        self.lock = threading.Lock()
        self.client_name = "flagkit"

    # -- the snapshot ---------------------------------------------------------

    def sync(self, snapshot: Snapshot) -> Snapshot:
        """Follow a newly published snapshot; return it with tripped flags applied.

        Called with the client's publish lock held. A monitor survives when
        its flag's definition (fingerprint) is unchanged, so its trip and
        its samples survive unrelated reloads; any change starts over.
        """
        guarded = {key: flag for key, flag in snapshot.flags.items() if flag.plan.guard is not None}
        if not guarded and not self.monitors:
            return snapshot
        outcomes = self._outcomes_for() if guarded else None
        monitors: dict[str, Monitor] = {}
        for key, flag in guarded.items():
            assert flag.plan.guard is not None
            kept = self.monitors.get(key)
            if kept is not None and kept.fingerprint == flag.fingerprint:
                monitors[key] = kept
            else:
                totals = {} if outcomes is None else _by_variant(outcomes, key)
                monitors[key] = Monitor(flag, flag.plan.guard, totals)
        self.monitors = monitors
        if outcomes is not None:
            outcomes.watch(
                guarded,
                (
                    k
                    for k, m in monitors.items()
                    if any(x.kind == "latency" for x in m.guard.metrics)
                ),
            )
        return self.apply(snapshot)

    def apply(self, snapshot: Snapshot) -> Snapshot:
        """Return ``snapshot`` with every tripped guard's flag rolled back or paused."""
        replaced: dict[str, CompiledFlag] = {}
        for key, monitor in list(self.monitors.items()):
            flag = snapshot.flags.get(key)
            if monitor.trip is None or flag is None or flag.fingerprint != monitor.fingerprint:
                continue
            if monitor.guard.action == "rollback":
                plan = rolled_back(flag.plan, flag.variants[monitor.guard.control])
            else:  # held_at is None when the guarded rollout has no schedule
                plan = paused(flag.plan, monitor.held_at or 0.0)
            replaced[key] = recompiled(flag, plan)
        return with_flags(snapshot, replaced)

    # -- checking -------------------------------------------------------------

    def check(self) -> list[GuardTrip]:
        """Examine every untripped guard now; act on and report each new trip."""
        if not self.monitors:
            return []
        outcomes = self._outcomes_for()
        trips: list[tuple[Monitor, GuardTrip]] = []
        with self.lock:
            for monitor in list(self.monitors.values()):
                if monitor.trip is not None:
                    continue
                found = monitor.examine(_by_variant(outcomes, monitor.flag_key))
                if found is None:
                    continue
                if monitor.guard.action == "pause":  # the step in force now is the one held
                    monitor.held_at = guarded_ramp_time(monitor.plan)
                monitor.trip = GuardTrip(
                    monitor.flag_key,
                    monitor.guard.action,
                    monitor.guard.control,
                    found,
                    time.time(),
                )
                trips.append((monitor, monitor.trip))
        if not trips:
            return []
        self._republish()
        for monitor, trip in trips:
            if self.monitors.get(monitor.flag_key) is monitor:
                self._report(trip)
        return [trip for _, trip in trips]

    def reset(self, flag_key: str) -> bool:
        """Start a guard over (no trip, fresh samples); return False when the flag has none."""
        monitor = self.monitors.get(flag_key)
        if monitor is None:
            return False
        with self.lock:
            monitor.start(_by_variant(self._outcomes_for(), flag_key))
        self._republish()
        return True

    def statuses(self) -> tuple[GuardStatus, ...]:
        """Return every guard's status, in flag order."""
        return tuple(monitor.status() for monitor in list(self.monitors.values()))

    # -- telling ----------------------------------------------------------------

    def _report(self, trip: GuardTrip) -> None:
        logger.warning(
            "flagkit: guard on %r tripped (%s to %r): %s",
            trip.flag_key,
            "rolled back" if trip.action == "rollback" else "ramp paused",
            trip.control,
            trip.evidence.describe(),
        )
        record_span_event(trip, self.client_name)
        for listener in list(self.listeners):
            try:
                listener(trip)
            except Exception:
                logger.warning("flagkit: guard listener %r raised", listener, exc_info=True)

    def after_fork_in_child(self) -> None:
        """Replace the lock in a forked child (its holder may be gone)."""
        self.lock = threading.Lock()


def _by_variant(outcomes: Outcomes, flag_key: str) -> dict[str, OutcomeTotals]:
    return {key.variant: totals for key, totals in outcomes.totals(flag_key).items()}


#: The name of the OpenTelemetry span event a trip records.
TRIP_EVENT = "flagkit.guard.tripped"


def record_span_event(trip: GuardTrip, client_name: str) -> None:
    """Record a trip as an event on a ``flagkit.guard`` span, when OpenTelemetry is installed."""
    try:
        from opentelemetry import trace
    except ImportError:  # pragma: no cover - the otel extra is installed in the tests
        return
    try:
        evidence = trip.evidence
        low, high = evidence.interval
        tracer = trace.get_tracer("flagkit")
        with tracer.start_as_current_span("flagkit.guard") as span:
            span.add_event(
                TRIP_EVENT,
                {
                    "feature_flag.key": trip.flag_key,
                    "feature_flag.provider.name": client_name,
                    "feature_flag.result.variant": evidence.variant,
                    "flagkit.guard.action": trip.action,
                    "flagkit.guard.control": trip.control,
                    "flagkit.guard.metric": evidence.metric,
                    "flagkit.guard.estimate": evidence.estimate,
                    "flagkit.guard.bound": low if evidence.worse == "higher" else high,
                    "flagkit.guard.e_value": evidence.e_value,
                    "flagkit.guard.n_treatment": evidence.n_treatment,
                    "flagkit.guard.n_control": evidence.n_control,
                },
            )
    except Exception:  # telemetry must never break the trip
        logger.debug("flagkit: recording the guard trip in OpenTelemetry failed", exc_info=True)
