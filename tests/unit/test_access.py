"""Who may act on a callback: whoever sees all may act on every one; anyone else on the
callbacks assigned to their own adviser only; a person linked to no adviser on none."""

from __future__ import annotations

import pytest

from callbacks.access import NOBODY, acting_as, may_act_on

ANN, BEN = 7, 8
POOL = None  # a callback assigned to nobody


@pytest.mark.parametrize("adviser_id", [ANN, None])
def test_whoever_sees_all_may_act_on_every_callback(adviser_id: int | None) -> None:
    acting = acting_as(adviser_id, sees_all=True)

    assert acting is None
    assert all(may_act_on(assigned, acting) for assigned in (ANN, BEN, POOL))


def test_an_adviser_may_act_on_their_own_callbacks_only() -> None:
    acting = acting_as(ANN, sees_all=False)

    assert acting == ANN
    assert may_act_on(ANN, acting)
    assert not may_act_on(BEN, acting)
    assert not may_act_on(POOL, acting)  # the pool's are taken first, then worked


def test_a_person_linked_to_no_adviser_who_does_not_see_all_may_act_on_none() -> None:
    acting = acting_as(None, sees_all=False)

    assert acting == NOBODY
    assert not any(may_act_on(assigned, acting) for assigned in (ANN, BEN, POOL))
