"""Routing's statements through psycopg directly (helpline.driver) hand back what SQLAlchemy
would: the same rows, instants in UTC, states as their enums, and an insert's defaults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, Table, bindparam, delete, event, insert, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from callbacks.attempts import CALLING_BACK
from calls import claim
from calls.events import EVENTS_AT_ONCE, Events, record_event
from calls.models import Call, CallEvent, CallLeg
from calls.service import call_ended, find_call, new_leg, read_legs, record_incoming
from calls.states import LegState, TwilioCallStatus
from helpline import db
from helpline.db import Limits, flush, make_engine
from helpline.driver import DriverStatement, run_commands, run_script, write_changes
from helpline.settings import Settings
from rota.models import Adviser
from tests.constants import ANN, BEN, CAT, HEREFORD, MONDAY, PARENT
from tests.factories import adviser

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def postgres(connection: Connection, session: Session) -> Iterator[Session]:
    """The session, on PostgreSQL, in a transaction whose time zone is far from UTC."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip(
            "the statements run through psycopg on PostgreSQL only; SQLite keeps SQLAlchemy"
        )
    yield session


def test_the_advisers_read_gives_the_rows_sqlalchemy_gives(
    postgres: Session, settings: Settings
) -> None:
    session = postgres
    ann = adviser(session, "Ann Adams", ANN, "herefordshire", MONDAY)
    ben = adviser(session, "Ben Brown", BEN, "herefordshire", MONDAY)
    adviser(session, "Cat Cole", CAT, "worcestershire", MONDAY)
    call, _ = record_incoming(session, settings, "CA" + "1" * 32, PARENT, HEREFORD, NOW)
    other, _ = record_incoming(session, settings, "CA" + "2" * 32, PARENT, HEREFORD, NOW)
    base = {"call_id": other.id, "office": "herefordshire", "started_at": NOW}
    new_leg(session, other, {**base, "adviser_id": ann.id, "state": LegState.ACCEPTED})
    leg = session.scalars(select(CallLeg).where(CallLeg.adviser_id == ann.id)).one()
    leg.accepted_at = NOW
    new_leg(session, other, {**base, "adviser_id": ben.id, "state": LegState.RINGING})
    session.flush()

    query = claim._advisers_now_query(CALLING_BACK.ids, 2)
    w = claim.Windows.at(settings, NOW)
    values = {
        "now": NOW,
        "busy_since": w.busy_since,
        "ringing_since": w.ringing_since,
        "fairness_since": w.fairness_since,
        "call_id": call.id,
        **CALLING_BACK.values(NOW),
        "office_0": "herefordshire",
        "office_1": "worcestershire",
    }
    connection = session.connection()
    through_sqlalchemy = [tuple(row) for row in connection.execute(query, values)]
    through_psycopg = DriverStatement.of(query).run(connection, values)

    assert through_psycopg == through_sqlalchemy
    assert [row[1] for row in through_psycopg] == ["Ann Adams", "Ben Brown", "Cat Cole"]
    assert [(row[7], row[8]) for row in through_psycopg] == [
        (True, False),  # Ann: on a call
        (False, True),  # Ben: being rung for another caller
        (False, False),
    ]
    for row in through_psycopg:
        assert row[4].utcoffset() == timedelta(0)  # the shift's end, in UTC
    assert through_psycopg[0][6] == NOW and through_psycopg[0][6].utcoffset() == timedelta(0)


def test_a_new_call_inserted_through_psycopg_is_the_row_the_database_holds(
    postgres: Session, settings: Settings
) -> None:
    session = postgres
    call, known = record_incoming(session, settings, "CA" + "3" * 32, PARENT, HEREFORD, NOW)
    table = Call.__table__
    assert isinstance(table, Table)
    stored = session.execute(select(table).where(table.c.id == call.id)).one()._mapping
    assert known
    for column in table.c:
        assert getattr(call, column.key) == stored[column.key], column.key
    # The columns the insert left out took the model's defaults, as SQLAlchemy gives them.
    assert (call.message_left, call.number_tries, call.adviser_rung) == (False, 0, False)
    assert call.status == TwilioCallStatus.RINGING and call.started_at == NOW
    assert call.started_at.utcoffset() == timedelta(0)
    leg = new_leg(
        session,
        call,
        {
            "call_id": call.id,
            "adviser_id": adviser(session, "Ann Adams", ANN, "herefordshire", MONDAY).id,
            "office": "herefordshire",
            "state": LegState.RINGING,
            "started_at": NOW,
        },
    )
    assert type(leg.state) is LegState and leg.started_at.utcoffset() == timedelta(0)
    assert call.legs == [leg]
    assert not session.dirty  # nothing to write again
    # Changed afterwards, it is written as any object read is.
    call.status = TwilioCallStatus.IN_PROGRESS
    assert list(session.dirty) == [call]
    session.flush()
    assert session.scalar(select(table.c.status).where(table.c.id == call.id)) == "in-progress"


def test_an_object_for_a_row_is_refused_a_value_that_is_no_column(session: Session) -> None:
    with pytest.raises(ValueError, match="not every value given is a column of Call"):
        db.inserted(session, Call, {"id": 1, "sid": "CA" + "4" * 32, "colour": "blue"})
    assert not session.new and not list(session)


def test_events_through_psycopg_keep_their_detail_and_skip_repeats(
    postgres: Session, settings: Settings
) -> None:
    session = postgres
    sid = "CA" + "4" * 32
    events = Events()
    events.add(sid, "one", NOW, {"leg": 1, "office": "herefordshire"}, key=f"one:{sid}")
    events.add(sid, "two", NOW, None)
    events.write(session)
    assert record_event(session, sid, "one", NOW, {"again": True}, key=f"one:{sid}") is False
    assert record_event(session, sid, "three", NOW, key=f"three:{sid}") is True
    kept = session.execute(
        select(CallEvent.kind, CallEvent.detail, CallEvent.at)
        .where(CallEvent.call_sid == sid)
        .order_by(CallEvent.id)
    ).all()
    assert [(kind, detail) for kind, detail, _ in kept] == [
        ("one", {"leg": 1, "office": "herefordshire"}),
        ("two", {}),
        ("three", {}),
    ]
    assert all(at == NOW for _, _, at in kept)


def test_more_events_than_one_statement_takes_are_all_kept_and_repeats_skipped(
    postgres: Session,
) -> None:
    session = postgres
    sid = "CA" + "8" * 32
    events = Events()
    count = 2 * EVENTS_AT_ONCE + 3
    for n in range(count):
        events.add(sid, f"e{n}", NOW + timedelta(seconds=n), {"n": n}, key=f"e:{sid}:{n % 7}")
    events.write(session)
    kept = session.execute(
        select(CallEvent.kind, CallEvent.detail, CallEvent.at)
        .where(CallEvent.call_sid == sid)
        .order_by(CallEvent.id)
    ).all()
    # The first event of each key is kept, in the order added; its repeats are skipped.
    assert [(kind, detail["n"]) for kind, detail, _ in kept] == [(f"e{n}", n) for n in range(7)]
    assert [at for _, _, at in kept] == [NOW + timedelta(seconds=n) for n in range(7)]


def test_an_insert_that_leaves_out_a_computed_default_is_refused() -> None:
    # The event's detail defaults to a new dict, made for each row: only SQLAlchemy makes it.
    statement = insert(CallEvent.__table__).returning(CallEvent.id)
    with pytest.raises(ValueError, match="must set detail"):
        DriverStatement.of(statement, ("call_sid", "kind", "at"))


def test_only_the_codes_own_values_are_written_into_a_statement(
    postgres: Session, settings: Settings
) -> None:
    # States are written into the SQL (so PostgreSQL plans it once and matches partial
    # indexes); any other text stays a bound parameter, quotes and percent signs included.
    session = postgres
    sid = "CA" + "5" * 32
    record_event(session, sid, "it's 100%", NOW)
    record_event(session, sid, "other", NOW)
    statement = select(CallEvent.kind).where(
        CallEvent.call_sid == bindparam("sid"),
        CallEvent.kind.in_(["it's 100%", LegState.RINGING]),
    )
    driver = DriverStatement.of(statement)
    assert "'ringing'" in driver.sql and "100" not in driver.sql
    assert list(driver.constants.values()) == ["it's 100%"]
    assert driver.run(session.connection(), {"sid": sid}) == [("it's 100%",)]


def test_a_dropped_connection_fails_as_sqlalchemy_says_and_is_replaced(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "the statements run through psycopg on PostgreSQL only; SQLite keeps SQLAlchemy"
        )
    statement = DriverStatement.of(select(CallEvent.id).where(CallEvent.kind == bindparam("k")))
    with engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid or 0)})")
        with pytest.raises(OperationalError) as raised:
            statement.run(connection, {"k": "x"})
        # The logs' and the CLI's "database unavailable", and the pool's replacement.
        assert raised.value.connection_invalidated and connection.invalidated
        assert "'x'" not in str(raised.value)  # parameters hidden


def test_finding_a_call_reads_it_afresh_whether_or_not_the_session_holds_it(
    postgres: Session, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    session = postgres
    sid = "CA" + "6" * 32
    record_incoming(session, settings, sid, PARENT, HEREFORD, NOW)
    session.commit()
    with sessions() as other:  # a webhook of its own: the call is read through psycopg
        found = find_call(other, sid)
        assert found is not None and found.from_number == PARENT
        assert found.started_at == NOW and found.started_at.utcoffset() == timedelta(0)
        assert found in other and not other.dirty
        found.status = TwilioCallStatus.IN_PROGRESS
        other.flush()
        stored = other.connection().exec_driver_sql(
            "SELECT status FROM call WHERE sid = %(sid)s", {"sid": sid}
        )
        assert stored.scalar() == "in-progress"  # the unit of work writes what it read
        # Changed meanwhile by another webhook: finding it again reads the change.
        other.connection().exec_driver_sql(
            "UPDATE call SET status = 'completed' WHERE sid = %(sid)s", {"sid": sid}
        )
        again = find_call(other, sid)
        assert again is found and again.status == "completed"
    assert find_call(session, "CA" + "7" * 32) is None


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The statements SQLAlchemy sends meanwhile (not those run through psycopg directly)."""
    sent: list[str] = []

    def _sent(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        sent.append(sql)

    event.listen(engine, "before_cursor_execute", _sent)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", _sent)


def _ringing_call(session: Session, settings: Settings, sid: str) -> tuple[Call, CallLeg]:
    call, _ = record_incoming(session, settings, sid, PARENT, HEREFORD, NOW)
    ann = adviser(session, "Ann Adams", ANN, "herefordshire", MONDAY)
    values = {"call_id": call.id, "adviser_id": ann.id, "office": "herefordshire"}
    leg = new_leg(session, call, {**values, "state": LegState.RINGING, "started_at": NOW})
    session.commit()
    return call, leg


def test_a_call_ended_is_written_through_psycopg_and_left_as_read(
    postgres: Session, settings: Settings, sessions: sessionmaker[Session], engine: Engine
) -> None:
    sid = "CA" + "9" * 32
    _, leg = _ringing_call(postgres, settings, sid)
    with sessions() as other:
        with statements(engine) as sent:
            found = find_call(other, sid)
            assert found is not None
            read_legs(other, found)
            assert [each.id for each in found.legs] == [leg.id]
            assert found.legs[0].call is found and found.legs[0].started_at == NOW
        assert not any("call_leg" in sql for sql in sent)  # read through psycopg, not the ORM
        call_ended(found, NOW + timedelta(seconds=90), 90)
        assert set(other.dirty) == {found, found.legs[0]}
        with statements(engine) as sent:
            flush(other)
        assert not other.dirty and sent == []  # nothing went through the unit of work
        row = other.execute(
            select(Call.ended_at, Call.duration_s, Call.outcome, Call.adviser_rung).where(
                Call.sid == sid
            )
        ).one()
        assert row == (NOW + timedelta(seconds=90), 90, found.outcome, True)
        assert found.outcome is not None
        stored = other.execute(select(CallLeg.state, CallLeg.ended_at)).one()
        assert stored == (LegState.CALLER_GONE, NOW + timedelta(seconds=90))
        # Still in the session, as read: a later change is written again, from there.
        found.status = TwilioCallStatus.COMPLETED
        flush(other)
        assert other.scalar(select(Call.status).where(Call.sid == sid)) == "completed"
        assert not other.dirty


def test_changes_the_unit_of_work_must_order_are_left_to_it(
    postgres: Session, settings: Settings, engine: Engine
) -> None:
    session = postgres
    sid = "CA" + "a" * 32
    call, leg = _ringing_call(session, settings, sid)
    ben = adviser(session, "Ben Brown", BEN, "herefordshire", MONDAY)
    session.commit()
    # A relationship changed: the unit of work sets the key it stands for.
    call.answered_by = ben
    leg.state = LegState.ACCEPTED
    write_changes(session)
    assert {call, leg} <= set(session.dirty)  # all of them, so that it orders them all
    with statements(engine) as sent:
        flush(session)
    assert any(sql.startswith("UPDATE call ") for sql in sent)
    assert any(sql.startswith("UPDATE call_leg ") for sql in sent)
    assert session.scalar(select(Call.answered_by_id).where(Call.sid == sid)) == ben.id
    # Something new to write first: every change waits for the unit of work.
    leg.state = LegState.COMPLETED
    session.add(CallEvent(call_sid=sid, kind="note", at=NOW, detail={}))
    write_changes(session)
    assert leg in session.dirty
    # Inside a savepoint: its rollback must find what it undoes.
    session.flush()
    with session.begin_nested() as inner:
        call.status = TwilioCallStatus.BUSY
        write_changes(session)
        assert call in session.dirty
        session.flush()
        inner.rollback()
    assert session.scalar(select(Call.status).where(Call.sid == sid)) != "busy"


def test_a_value_the_database_computes_is_left_to_the_unit_of_work(
    postgres: Session, settings: Settings
) -> None:
    session = postgres
    sid = "CA" + "c" * 32
    call, _ = _ringing_call(session, settings, sid)
    call.number_tries = Call.number_tries + 1  # type: ignore[assignment]
    write_changes(session)
    assert call in session.dirty
    flush(session)
    assert session.scalar(select(Call.number_tries).where(Call.sid == sid)) == 1


def test_a_row_gone_meanwhile_is_an_error_not_a_silent_loss(
    postgres: Session, settings: Settings
) -> None:
    session = postgres
    _, leg = _ringing_call(session, settings, "CA" + "b" * 32)
    table = CallLeg.__table__
    assert isinstance(table, Table)
    session.connection().execute(delete(table).where(table.c.id == leg.id))  # behind its back
    leg.state = LegState.NO_ANSWER
    with pytest.raises(StaleDataError):
        flush(session)


def test_a_connection_dropped_while_idle_is_replaced_before_use(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pooled connections are pinged after a while idle")
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.2)
    engine = make_engine(database_url, Limits(pool_size=1, max_overflow=0))
    pings: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    try:
        with engine.connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as connection:  # used a moment ago: not pinged
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() == pid
        assert pings == []
        with make_engine(database_url).connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid or 0)})")
        time.sleep(0.3)
        with engine.connect() as connection:  # idle a while: pinged, found dropped, replaced
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
        assert len(pings) == 1
    finally:
        engine.dispose()


def test_connections_dropped_a_moment_ago_fail_one_request_and_the_pool_is_renewed(
    database_url: str,
) -> None:
    # Not pinged (used within the last second): the first request on one of them fails, as a
    # request under way at the restart would, and the pool replaces the rest before use.
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pooled connections are pinged after a while idle")
    engine = make_engine(database_url, Limits(pool_size=3, max_overflow=0))
    other = make_engine(database_url)
    statement = DriverStatement.of(select(CallEvent.id).where(CallEvent.kind == bindparam("k")))
    try:
        held = [engine.connect() for _ in range(3)]
        pids = [each.exec_driver_sql("SELECT pg_backend_pid()").scalar() for each in held]
        for each in held:
            each.close()  # back in the pool, used a moment ago
        with other.connect() as connection:
            for pid in pids:
                connection.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid or 0)})")
        failed = 0
        for _ in range(3):
            with engine.connect() as connection:
                try:
                    statement.run(connection, {"k": "x"})
                except OperationalError:
                    failed += 1
        assert failed == 1
    finally:
        engine.dispose()
        other.dispose()


def test_statements_sent_together_give_the_last_ones_rows_and_fail_as_sqlalchemy_says(
    postgres: Session,
) -> None:
    connection = postgres.connection()
    rows = run_script(connection, "SAVEPOINT together; SELECT 1, 'two'; SELECT 3")
    assert rows == [(3,)]
    assert run_script(connection, "RELEASE SAVEPOINT together") == []
    with pytest.raises(DBAPIError) as raised:
        run_script(connection, "SAVEPOINT again; SELECT 1 / 0")
    assert "division by zero" in str(raised.value.orig)


@pytest.fixture
def committed(committed: Engine) -> Engine:
    """The PostgreSQL test database with committed data, emptied again afterwards."""
    if committed.dialect.name != "postgresql":
        pytest.skip("the claim takes row locks on PostgreSQL only; SQLite has one writer")
    return committed


def _free_to_lock(engine: Engine, adviser_id: int) -> bool:
    """Whether another transaction could claim the adviser this instant."""
    with engine.connect() as other:
        found = other.execute(
            select(Adviser.id)
            .where(Adviser.id == adviser_id)
            .with_for_update(key_share=True, skip_locked=True)
        ).all()
        other.rollback()
    return bool(found)


def test_a_failed_claim_lets_the_adviser_go_at_once_and_a_kept_one_holds_until_the_end(
    committed: Engine, settings: Settings
) -> None:
    with Session(committed) as setup:
        _ringing_call(setup, settings, "CA" + "1" * 32)  # Ann is being rung
        ann = setup.scalars(select(Adviser.id).where(Adviser.phone == ANN)).one()
        ben = adviser(setup, "Ben Brown", BEN, "herefordshire", MONDAY).id
        new, _ = record_incoming(setup, settings, "CA" + "2" * 32, PARENT, HEREFORD, NOW)
        setup.commit()
        call_id = new.id
    with Session(committed) as session:
        call = session.get_one(Call, call_id)
        # Ann is being rung for another caller: claiming her alone fails, many times over,
        # and nobody is kept waiting for her meanwhile.
        for _ in range(100):
            found = claim.claim(session, settings, call, ann, NOW, ringing_allowed=False)
            assert found is claim.Claim.RINGING
        assert _free_to_lock(committed, ann)
        # Each failed claim undid its savepoint and was done with it, and the claim's check
        # stayed prepared (undoing had made psycopg forget, and plan afresh, every statement).
        connection = session.connection()
        prepared = connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements")
        assert any("EXISTS" in sql for (sql,) in prepared)
        run_script(connection, "SAVEPOINT probe")
        with pytest.raises(DBAPIError, match="does not exist"):
            run_script(connection, "RELEASE SAVEPOINT routing_claim")
        run_commands(connection, "ROLLBACK TO SAVEPOINT probe; RELEASE SAVEPOINT probe")
        # Ben is free: claimed, and held until the transaction ends, whatever follows.
        assert claim.claim(session, settings, call, ben, NOW, ringing_allowed=False) is (
            claim.Claim.CLAIMED
        )
        values = {"call_id": call.id, "adviser_id": ben, "office": "herefordshire"}
        new_leg(session, call, {**values, "state": LegState.RINGING, "started_at": NOW})
        assert not _free_to_lock(committed, ben) and _free_to_lock(committed, ann)
        session.commit()
    assert _free_to_lock(committed, ben)
    with Session(committed) as check:
        legs = check.scalars(select(CallLeg.adviser_id).order_by(CallLeg.id)).all()
        assert legs == [ann, ben]  # the leg written after the claim was kept


def test_commands_sent_past_the_cursor_fail_as_sqlalchemy_says(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the commands go to PostgreSQL's libpq; SQLite keeps SQLAlchemy")
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
        with pytest.raises(DBAPIError, match="does not exist"):
            run_commands(connection, "RELEASE SAVEPOINT nothing_here")
        connection.rollback()
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid or 0)})")
        with pytest.raises(OperationalError) as raised:
            run_commands(connection, "SAVEPOINT gone")
        assert raised.value.connection_invalidated and connection.invalidated
