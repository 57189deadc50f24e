"""What each scheduled job did, as counts, and the one line made from them.

A job returns one of these; the scheduler keeps its `summary()` as the run's summary, logs it,
and `helpline jobs run` and `helpline jobs list` show it. Tests read the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class JobResult(Protocol):
    """What a run did, as counts; `summary` is the one line made from them."""

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        ...


@dataclass(frozen=True)
class Skipped:
    """A run that did nothing, and why (no Twilio credentials, say)."""

    reason: str

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        return f"skipped: {self.reason}"


@dataclass(frozen=True)
class Assigned:
    """assign-callbacks: of the callbacks waiting for an adviser, how many were given one."""

    waiting: int
    assigned: int

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        if not self.waiting:
            return "nothing to assign"
        return f"assigned {self.assigned} of {self.waiting} waiting callback(s)"


@dataclass(frozen=True)
class Returned:
    """return-to-pool: callbacks taken back from advisers whose shift has ended."""

    returned: int

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        return f"returned {self.returned} callback(s) to the pool"


@dataclass(frozen=True)
class Released:
    """release-retries: callbacks whose retry time has come, made assignable again."""

    released: int

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        return f"released {self.released} retr{'y' if self.released == 1 else 'ies'}"


@dataclass(frozen=True)
class Warned:
    """warn-deadlines: warnings raised for the duty officer (due soon or overdue)."""

    raised: int

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        return f"raised {self.raised} deadline warning(s)"


@dataclass(frozen=True)
class ClocksStarted:
    """start-clocks: of the callbacks waiting for an opening when the run began, how many got
    a deadline, and how many wait still."""

    waiting: int
    started: int
    still_waiting: int

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        if not self.waiting:
            return "no callback waits for an opening"
        return (
            f"started the clock of {self.started} callback(s); "
            f"{self.still_waiting} still wait for an opening"
        )


@dataclass(frozen=True)
class SettledCalls:
    """settle-calls: calls looked at, and the calls and legs settled (those settled as unknown
    among them); what Twilio could not be asked about is left for the next run."""

    checked: int
    calls: int
    legs: int
    unknown: int
    unreachable: int

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        return (
            f"checked {self.checked} call(s): settled {self.calls} call(s) and {self.legs} "
            f"leg(s), {self.unknown} of them as unknown"
        ) + (
            f"; {self.unreachable} left for the next run: Twilio could not be asked"
            if self.unreachable
            else ""
        )


@dataclass(frozen=True)
class Reconciled:
    """reconcile-recordings: recordings listed at Twilio, messages recovered from them, and
    those that failed (to be filed, or Twilio could not describe their call)."""

    checked: int
    recovered: int
    failed: int

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        return f"checked {self.checked} recording(s), recovered {self.recovered}" + (
            f", {self.failed} failed" if self.failed else ""
        )


@dataclass(frozen=True)
class Deleted:
    """delete-recordings: recordings deleted at Twilio (of them, `unfiled` never filed as a
    message), those it would not delete (tried again next run), and whether Twilio could not
    list its recordings (so those never filed wait a run)."""

    deleted: int
    failed: int
    unfiled: int = 0
    unlisted: bool = False

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        return (
            f"deleted {self.deleted} recording(s) past retention"
            + (f" ({self.unfiled} never filed)" if self.unfiled else "")
            + (f", {self.failed} failed" if self.failed else "")
            + ("; Twilio could not list recordings" if self.unlisted else "")
        )


@dataclass(frozen=True)
class Pseudonymised:
    """pseudonymise-numbers: rows whose callers' numbers became keyed pseudonyms."""

    callbacks: int
    messages: int
    calls: int

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        return (
            f"pseudonymised the numbers of {self.calls} call(s), {self.messages} message(s) "
            f"and {self.callbacks} callback(s) past retention"
        )


@dataclass(frozen=True)
class Pruned:
    """prune-job-runs: the scheduler's records of runs older than `days` that were deleted."""

    deleted: int
    days: int

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        return f"deleted {self.deleted} job run(s) older than {self.days} days"


@dataclass(frozen=True)
class FactsFilled:
    """fill-statistics-facts: rows of the last two days given the facts they were missing."""

    calls: int
    attempts: int
    callbacks: int

    def summary(self) -> str:
        """One line for the log, the run's record and `helpline jobs`."""
        if not (self.calls or self.attempts or self.callbacks):
            return "every recent call and attempt has what the statistics read"
        return (
            f"filled in what the statistics read on {self.calls} call(s), "
            f"{self.attempts} attempt(s) and {self.callbacks} callback(s)"
        )
