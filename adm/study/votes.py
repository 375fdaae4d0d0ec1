"""The votes database: one SQLite file that every page session (and process) writes to.

Tables:

- ``meta(key, value)``: the study's methods and questions (JSON), so that a database is read
  back, and refused if opened with another study's manifest, without guessing.
- ``participants(participant, created_at, plan)``: the random id given after consent, and the
  order of groups and methods that participant sees (:class:`adm.study.design.Plan`, JSON).
  No name, e-mail or address is stored.
- ``votes(participant, group_id, question, method, position, order_shown, answered_at)``: one
  row per participant, group and question (the primary key): answering again replaces the
  row, never adds one. ``position`` is where the chosen video was shown (0 = label A) and
  ``order_shown`` the methods by position (JSON), for the position-bias check.

Concurrency: the file is in WAL mode (readers never block the writer) and every write is one
``BEGIN IMMEDIATE`` transaction with a busy timeout, so two participants voting at the same
moment wait for each other for a few milliseconds instead of failing or losing a vote.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from adm.errors import BadInputError
from adm.study.design import QUESTIONS, Plan

BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS participants (
    participant TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    plan TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    participant TEXT NOT NULL REFERENCES participants(participant),
    group_id TEXT NOT NULL,
    question TEXT NOT NULL,
    method TEXT NOT NULL,
    position INTEGER NOT NULL,
    order_shown TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (participant, group_id, question)
);
"""

VOTE_COLUMNS = ("participant", "group_id", "question", "method", "position", "order_shown")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class VoteStore:
    """Read and write one votes database. Cheap to create: one connection per use.

    Args:
        path: the SQLite file (created with its folder on first write).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE takes the
        # write lock at once, so two writers queue instead of deadlocking on an upgrade).
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            yield connection
        finally:
            connection.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def create(self, methods: list[str], questions: list[str] | None = None) -> None:
        """Create the tables (if new) and record the study's methods and questions.

        Raises:
            BadInputError: the database already belongs to a study with other methods or
                questions.
        """
        questions = list(QUESTIONS) if questions is None else list(questions)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            # WAL is a property of the file: set once, outside a transaction.
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(_SCHEMA)  # idempotent: CREATE ... IF NOT EXISTS
        with self._write() as connection:
            for key, value in (("methods", methods), ("questions", questions)):
                row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
                if row is None:
                    connection.execute(
                        "INSERT INTO meta(key, value) VALUES (?, ?)", (key, json.dumps(value))
                    )
                elif json.loads(row[0]) != value:
                    raise BadInputError(
                        self.path,
                        f"belongs to a study with {key} {json.loads(row[0])}, not {value}",
                    )

    def register(self, participant: str, plan: Plan) -> None:
        """Add a participant with their plan (a participant already there keeps theirs)."""
        with self._write() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO participants(participant, created_at, plan) "
                "VALUES (?, ?, ?)",
                (participant, _now(), plan.to_json()),
            )

    def plan(self, participant: str) -> Plan | None:
        """The plan of a registered participant, else ``None``."""
        if not self.path.exists():
            return None
        with self._connect() as connection:
            row = connection.execute(
                "SELECT plan FROM participants WHERE participant = ?", (participant,)
            ).fetchone()
        return None if row is None else Plan.from_json(row[0])

    def record(self, participant: str, group_id: str, question: str, method: str) -> None:
        """Store (or replace) one answer; the position and order come from the plan.

        Raises:
            KeyError: unknown participant, group, question or method (a bug of the caller:
                the page only offers what the plan holds).
        """
        if question not in QUESTIONS:
            raise KeyError(f"unknown question {question!r}")
        with self._write() as connection:
            row = connection.execute(
                "SELECT plan FROM participants WHERE participant = ?", (participant,)
            ).fetchone()
            if row is None:
                raise KeyError(f"unknown participant {participant!r}")
            order = Plan.from_json(row[0]).orders[group_id]
            connection.execute(
                "INSERT INTO votes(participant, group_id, question, method, position, "
                "order_shown, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(participant, group_id, question) DO UPDATE SET "
                "method = excluded.method, position = excluded.position, "
                "order_shown = excluded.order_shown, answered_at = excluded.answered_at",
                (
                    participant,
                    group_id,
                    question,
                    method,
                    order.index(method),
                    json.dumps(order),
                    _now(),
                ),
            )

    def answers(self, participant: str) -> dict[tuple[str, str], str]:
        """(group id, question) -> chosen method, for one participant."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT group_id, question, method FROM votes WHERE participant = ?",
                (participant,),
            ).fetchall()
        return {(g, q): m for g, q, m in rows}


def read_database(path: str | Path) -> tuple[list[dict], list[str] | None]:
    """Every vote of a database, and the methods recorded in its ``meta`` table.

    Returns:
        rows (dicts with :data:`VOTE_COLUMNS`), methods (``None`` when not recorded).

    Raises:
        BadInputError: missing file, not a votes database.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "no such votes database")
    # Read-only: the analysis must never create or change a database.
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as err:
        raise BadInputError(path, f"cannot open as SQLite ({err})") from None
    try:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        if "votes" not in tables:
            raise BadInputError(path, "not a votes database (it has no 'votes' table)")
        cursor = connection.execute(f"SELECT {', '.join(VOTE_COLUMNS)} FROM votes")
        rows = [dict(zip(VOTE_COLUMNS, r, strict=True)) for r in cursor]
        methods = None
        if "meta" in tables:
            row = connection.execute("SELECT value FROM meta WHERE key = 'methods'").fetchone()
            methods = None if row is None else list(json.loads(row[0]))
    except sqlite3.DatabaseError as err:
        raise BadInputError(path, f"not a readable SQLite database ({err})") from None
    finally:
        connection.close()
    return rows, methods
