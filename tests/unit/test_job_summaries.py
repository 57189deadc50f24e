"""Each job's one-line summary, as `helpline jobs run` prints it and `helpline jobs list` shows
the last run's: made from the counts the job returns (the job tests assert the counts)."""

from __future__ import annotations

import pytest

from callbacks.job_results import (
    Assigned,
    ClocksStarted,
    Deleted,
    JobResult,
    Pseudonymised,
    Reconciled,
    Released,
    Returned,
    SettledCalls,
    Skipped,
    Warned,
)


@pytest.mark.parametrize(
    ("result", "line"),
    [
        (Assigned(waiting=4, assigned=3), "assigned 3 of 4 waiting callback(s)"),
        (Assigned(waiting=0, assigned=0), "nothing to assign"),
        (Returned(returned=2), "returned 2 callback(s) to the pool"),
        (Released(released=1), "released 1 retry"),
        (Released(released=0), "released 0 retries"),
        (Warned(raised=1), "raised 1 deadline warning(s)"),
        (
            ClocksStarted(waiting=3, started=2, still_waiting=1),
            "started the clock of 2 callback(s); 1 still wait for an opening",
        ),
        (ClocksStarted(waiting=0, started=0, still_waiting=0), "no callback waits for an opening"),
        (
            SettledCalls(checked=2, calls=1, legs=2, unknown=1, unreachable=0),
            "checked 2 call(s): settled 1 call(s) and 2 leg(s), 1 of them as unknown",
        ),
        (
            SettledCalls(checked=1, calls=0, legs=0, unknown=0, unreachable=2),
            "checked 1 call(s): settled 0 call(s) and 0 leg(s), 0 of them as unknown; "
            "2 left for the next run: Twilio could not be asked",
        ),
        (Reconciled(checked=2, recovered=1, failed=0), "checked 2 recording(s), recovered 1"),
        (
            Reconciled(checked=3, recovered=2, failed=1),
            "checked 3 recording(s), recovered 2, 1 failed",
        ),
        (Deleted(deleted=1, failed=0), "deleted 1 recording(s) past retention"),
        (Deleted(deleted=0, failed=1), "deleted 0 recording(s) past retention, 1 failed"),
        (
            Deleted(deleted=3, failed=1, unfiled=2, unlisted=True),
            "deleted 3 recording(s) past retention (2 never filed), 1 failed; "
            "Twilio could not list recordings",
        ),
        (
            Pseudonymised(callbacks=1, messages=2, calls=3),
            "pseudonymised the numbers of 3 call(s), 2 message(s) and 1 callback(s) past retention",
        ),
        (Skipped("no Twilio credentials"), "skipped: no Twilio credentials"),
    ],
)
def test_each_jobs_summary_reads_as_one_line(result: JobResult, line: str) -> None:
    assert result.summary() == line
