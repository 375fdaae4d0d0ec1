"""The votes database: one answer per participant, group and question; votes from several
processes at once all arrive; a database of another study is refused."""

from __future__ import annotations

import multiprocessing
import sqlite3

import numpy as np
import pytest

from adm.errors import BadInputError
from adm.study.design import QUESTIONS, random_plan
from adm.study.votes import VoteStore, read_database

METHODS = ["full", "no_uwp", "a2g_a2e"]
GROUPS = [f"g{i:02d}" for i in range(1, 10)]


def _row_count(path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT COUNT(*) FROM votes").fetchone()[0]


def test_repeat_answer_overwrites(tmp_path):
    store = VoteStore(tmp_path / "votes.sqlite")
    store.create(METHODS)
    plan = random_plan(GROUPS, METHODS, np.random.default_rng(0))
    store.register("p1", plan)
    store.record("p1", "g03", "face", "full")
    store.record("p1", "g03", "face", "no_uwp")
    store.record("p1", "g03", "face", "a2g_a2e")
    assert store.answers("p1") == {("g03", "face"): "a2g_a2e"}
    rows, _ = read_database(store.path)
    assert len(rows) == 1
    assert rows[0]["position"] == plan.orders["g03"].index("a2g_a2e")


def test_plan_is_recorded_and_kept(tmp_path):
    store = VoteStore(tmp_path / "votes.sqlite")
    store.create(METHODS)
    first = random_plan(GROUPS, METHODS, np.random.default_rng(1))
    store.register("p1", first)
    store.register("p1", random_plan(GROUPS, METHODS, np.random.default_rng(2)))
    assert store.plan("p1") == first
    assert store.plan("nobody") is None


def test_database_of_another_study_is_refused(tmp_path):
    store = VoteStore(tmp_path / "votes.sqlite")
    store.create(METHODS)
    store.create(METHODS)  # the same study again is fine
    with pytest.raises(BadInputError, match="belongs to a study with methods"):
        store.create(["full", "camn", "diffsheg"])


def test_file_is_in_wal_mode(tmp_path):
    store = VoteStore(tmp_path / "votes.sqlite")
    store.create(METHODS)
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _participant(path: str, index: int, seed: int) -> None:
    """One process: a participant who registers and answers every question, twice over (the
    second pass changes every answer), as fast as it can."""
    store = VoteStore(path)
    store.create(METHODS)  # every page process opens the database itself
    rng = np.random.default_rng(seed)
    participant = f"p{index}"
    store.register(participant, random_plan(GROUPS, METHODS, rng))
    for final in (False, True):
        for group in GROUPS:
            for question in QUESTIONS:
                method = METHODS[(index + len(group) + final) % len(METHODS)] if final else "full"
                store.record(participant, group, question, method)


def test_concurrent_voters_lose_nothing(tmp_path):
    path = str(tmp_path / "votes.sqlite")
    processes = 6
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_participant, args=(path, i, i)) for i in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0] * processes
    assert _row_count(path) == processes * len(GROUPS) * len(QUESTIONS)
    store = VoteStore(path)
    for i in range(processes):
        answers = store.answers(f"p{i}")
        expected = METHODS[(i + len("g01") + 1) % len(METHODS)]
        assert set(answers.values()) == {expected}  # every second-pass answer replaced the first
        assert len(answers) == len(GROUPS) * len(QUESTIONS)
