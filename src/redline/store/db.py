"""The store: one interface over SQLite (default) and PostgreSQL, migrated on open."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, create_engine, delete, event, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from redline import paths
from redline._version import __version__
from redline.errors import MissingExtraError, StoreError
from redline.store.models import Attempt, Base, Event, Finding, RateWindow, Run, utcnow

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_HEAD = "0004"
"""The newest migration's revision (a test checks it against alembic's own view)."""


class Store:
    """Runs, attempts, findings and events in a SQL database.

    Args:
        url: a SQLAlchemy URL; default ``REDLINE_DB`` or ``sqlite:///.redline/redline.db``.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url = url or paths.database_url()
        try:
            self.engine = _make_engine(self.url)
            self.migrate()
        except ModuleNotFoundError as exc:
            raise MissingExtraError(
                "scale", exc.name or "a database driver", f"The store at {_safe_url(self.url)}"
            ) from exc
        except SQLAlchemyError as exc:
            raise StoreError(
                f"Cannot open the store at {_safe_url(self.url)}: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]}. Check REDLINE_DB and that the database is up."
            ) from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._held = threading.local()  # count_request's connection, one per thread
        self._held_all: list[Connection] = []
        self._lock = threading.Lock()

    def migrate(self) -> None:
        """Bring the schema to the newest migration.

        A store already at :data:`SCHEMA_HEAD` is left alone, and a new SQLite file is made
        at the head directly, without loading alembic, which would cost every command that
        opens the store about 0.15 s.
        """
        # Two first runs on one new SQLite file: one makes it (WAL mode, tables) while the
        # other waits here, then finds it done.
        with _file_lock(self.url):
            revision = self.revision()
            if revision == SCHEMA_HEAD:
                return
            if revision is None and self._new_sqlite_file():
                self._create_at_head()
                return
            self._upgrade()

    def _new_sqlite_file(self) -> bool:
        if self.engine.dialect.name != "sqlite":
            return False
        with self.engine.connect() as connection:
            tables = connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            return not tables.all()

    def _create_at_head(self) -> None:
        """Make a new SQLite store's tables from the models and stamp it at the head revision.

        The same schema the migrations build (a test compares them), without loading
        alembic: a red-team run in a new home starts about 0.15 s sooner.
        """
        with self.engine.begin() as connection:
            Base.metadata.create_all(connection)
            connection.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                )
            )
            connection.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                {"head": SCHEMA_HEAD},
            )

    def _upgrade(self) -> None:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Guard replicas that open a new database at once: one migrates while the
                # others wait here, then find it done (alembic reads the version after).
                connection.execute(text("SELECT pg_advisory_xact_lock(7216731700)"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def revision(self) -> str | None:
        """The schema's migration revision; None for a database without one."""
        with self.engine.connect() as connection:
            try:
                rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            except SQLAlchemyError:  # no table yet: a new database
                return None
        return str(rows[0][0]) if len(rows) == 1 else None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    # --- runs -------------------------------------------------------------------------

    def create_run(
        self,
        kind: str,
        target: str,
        config: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> Run:
        """Start a run and return it."""
        run = Run(
            id=run_id or uuid.uuid4().hex[:16],
            kind=kind,
            target=target,
            config=config or {},
            status="running",
            redline_version=__version__,
        )
        with self.session() as s:
            s.add(run)
        return run

    def get_run(self, run_id: str) -> Run | None:
        """The run with this id, or None."""
        with self.session() as s:
            return s.get(Run, run_id)

    def finish_run(self, run_id: str, status: str = "finished") -> None:
        """Mark a run finished (or failed)."""
        with self.session() as s:
            run = s.get(Run, run_id)
            if run is None:
                raise StoreError(f"No run '{run_id}' in the store; list runs with `redline runs`.")
            run.status = status
            run.finished_at = utcnow()

    # --- attempts ---------------------------------------------------------------------

    def add_attempt(self, run_id: str, key: str, **fields: Any) -> bool:
        """Record an attempt once; returns False if this run already has ``key``."""
        try:
            with self.session() as s:
                s.add(Attempt(run_id=run_id, key=key, **fields))
        except IntegrityError:
            return False
        return True

    def attempt_keys(self, run_id: str) -> set[str]:
        """Keys of every attempt already recorded for a run (for resuming)."""
        with self.session() as s:
            return set(s.scalars(select(Attempt.key).where(Attempt.run_id == run_id)))

    def forget_attempts(self, run_id: str, keys: Collection[str]) -> int:
        """Delete these attempts of a run (to send them again); returns how many went."""
        if not keys:
            return 0
        with self.session() as s:
            result = s.execute(
                delete(Attempt).where(Attempt.run_id == run_id, Attempt.key.in_(list(keys)))
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def attempts(self, run_id: str) -> Sequence[Attempt]:
        """Every attempt of a run, in the order recorded."""
        with self.session() as s:
            return s.scalars(
                select(Attempt).where(Attempt.run_id == run_id).order_by(Attempt.id)
            ).all()

    # --- findings and events ----------------------------------------------------------

    def add_finding(self, run_id: str, **fields: Any) -> Finding:
        """Record a finding."""
        finding = Finding(run_id=run_id, **fields)
        with self.session() as s:
            s.add(finding)
        return finding

    def findings(self, run_id: str) -> Sequence[Finding]:
        """Every finding of a run."""
        with self.session() as s:
            return s.scalars(
                select(Finding).where(Finding.run_id == run_id).order_by(Finding.id)
            ).all()

    def add_events(self, events: Sequence[dict[str, Any]]) -> None:
        """Append traffic events in one transaction."""
        with self.session() as s:
            s.add_all(Event(**e) for e in events)

    def ingest_events(self, events: Sequence[dict[str, Any]]) -> int:
        """Append events, skipping any whose ``log_hash`` is already stored; returns rows added.

        Used by the guard (events that carry the hash of their event-log record), so that
        writing the same log records twice never duplicates them.
        """
        if not events:
            return 0
        rows = [{"ts": utcnow(), "payload": {}, **e} for e in events]
        dialect = self.engine.dialect.name
        if dialect in ("sqlite", "postgresql"):
            from sqlalchemy.dialects import postgresql, sqlite

            # Core, not the ORM's bulk insert: a quarter less CPU (and GIL) per batch, which
            # the guard's writer thread takes from its event loop. RETURNING counts the rows
            # added (executemany's rowcount is -1 on PostgreSQL with ON CONFLICT).
            table = cast(Table, Event.__table__)
            insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
            statement = insert(table).on_conflict_do_nothing(index_elements=["log_hash"])
            with self.engine.begin() as connection:
                return len(connection.execute(statement.returning(table.c.id), rows).all())
        with self.session() as s:
            hashes = [r["log_hash"] for r in rows if r.get("log_hash")]
            known = set(s.scalars(select(Event.log_hash).where(Event.log_hash.in_(hashes))))
            fresh = [r for r in rows if r.get("log_hash") not in known or not r.get("log_hash")]
            s.add_all(Event(**r) for r in fresh)
            return len(fresh)

    def events(
        self, *, after_id: int = 0, limit: int = 10_000, kind: str | None = None
    ) -> Sequence[Event]:
        """Events with id above ``after_id``, oldest first (for following the traffic)."""
        with self.session() as s:
            query = select(Event).where(Event.id > after_id)
            if kind is not None:
                query = query.where(Event.kind == kind)
            return s.scalars(query.order_by(Event.id).limit(limit)).all()

    # --- shared rate windows ------------------------------------------------------------

    def count_request(self, client: str, window: int) -> int:
        """Add one request to ``client``'s count for ``window``; returns the new count.

        One atomic ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, so guard replicas
        that count the same client at once each see a distinct count, and no request is
        counted twice or lost. It runs on a connection each calling thread keeps open in
        autocommit mode: one round trip, not the five of a pooled connection's ping,
        begin, statement, commit and reset (0.45 against 0.66 ms on a local PostgreSQL).

        Raises:
            StoreError: the database cannot be reached, or does not do upserts.
        """
        dialect = self.engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise StoreError(f"Shared rate limits need SQLite or PostgreSQL, not {dialect}.")
        from sqlalchemy.dialects import postgresql, sqlite

        table = cast(Table, RateWindow.__table__)
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        statement = insert(table).values(client=client, window=window, count=1)
        upsert = statement.on_conflict_do_update(
            index_elements=["client", "window"], set_={"count": table.c.count + 1}
        ).returning(table.c.count)
        held = self._held.__dict__
        try:
            if "connection" not in held:
                held["connection"] = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT")
                with self._lock:
                    self._held_all.append(held["connection"])
            return int(held["connection"].execute(upsert).scalar_one())
        except SQLAlchemyError as exc:
            broken = held.pop("connection", None)
            if broken is not None:
                broken.invalidate()  # the next count reconnects
            raise StoreError(
                f"Cannot count a request in the store at {_safe_url(self.url)}: "
                f"{exc.__class__.__name__}. Check that the database is up."
            ) from exc

    def forget_windows(self, before: int) -> int:
        """Delete rate windows older than ``before``; returns how many went."""
        with self.session() as s:
            result = s.execute(delete(RateWindow).where(RateWindow.window < before))
            return int(getattr(result, "rowcount", 0) or 0)

    def ping(self) -> None:
        """Check that the database answers.

        Raises:
            StoreError: it does not.
        """
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StoreError(
                f"The store at {_safe_url(self.url)} does not answer: "
                f"{exc.__class__.__name__}."
            ) from exc

    def close(self) -> None:
        """Release the connection pool."""
        with self._lock:
            for connection in self._held_all:
                connection.close()
            self._held_all.clear()
        self.engine.dispose()


@contextmanager
def _file_lock(url: str) -> Iterator[None]:
    """Hold an exclusive lock on ``DB.lock`` beside a SQLite file; nothing for other stores.

    SQLite takes no lock for reading a schema, so two processes opening a new file at once
    both saw no tables and both created them ("table runs already exists"), or one failed
    to switch the new file to WAL while the other held it ("database is locked").
    """
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        yield
        return
    import fcntl

    lock = Path(url.removeprefix("sqlite:///") + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = lock.open("a")
    except OSError:  # a read-only folder: nobody can be creating the store in it
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        db_path = Path(url.removeprefix("sqlite:///"))
        if str(db_path) != ":memory:":
            db_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def _safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is shown without its middle
        return url.split("@")[-1]
