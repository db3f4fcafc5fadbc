"""A build or an update killed at random moments leaves an index that answers as before or as after;
readers keep answering while an update runs; concurrent writers run one after the other."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import threading
import time

from similar import Index, Trial, build_index, read_records, update_index
from similar.folder import current_generation, writer_lock

from .conftest import DATA, TEST_MODEL

FIRST = [DATA / "api-v2", DATA / "api-v1-classic"]
SECOND = [DATA / "ctg-studies-2025.csv"]
QUERIES = ["NCT03418623", "NCT04780763", "NCT00023673"]
KILLS = 12


def answers(path) -> dict:
    with Index.open(path) as index:
        return {q: [m.nct_id for m in index.related(q, k=5)] for q in QUERIES}


def nct_ids(sources) -> set[str]:
    return {item.nct_id for item in read_records(sources) if isinstance(item, Trial)}


def run_killed(command: list[str], delay: float) -> bool:
    """Start the CLI, SIGKILL it after `delay` seconds; True if it was still running then."""
    process = subprocess.Popen(
        [sys.executable, "-m", "similar", *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(delay)
    alive = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    return alive


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "similar", *command], check=True, capture_output=True)
    return time.perf_counter() - started


def test_kills_at_random_moments_never_leave_a_half_written_index(shared, tmp_path):
    original = tmp_path / "original"
    build_index(FIRST, original, model=TEST_MODEL)
    before_answers = answers(original)

    rng = random.Random(20261126)
    work = tmp_path / "work"
    commands = {
        "update": ["update", *map(str, SECOND), "--index", str(work)],
        "build": ["build", *map(str, FIRST + SECOND), "--model", TEST_MODEL, "--index", str(work)],
    }
    outcomes = []
    for name, command in commands.items():
        shutil.copytree(original, work)
        duration = timed(command)
        # An update keeps the original TF-IDF vocabulary, so its answers are its own, not a fresh build's.
        after_answers = answers(work)
        assert before_answers != after_answers
        for _ in range(KILLS):
            shutil.rmtree(work)
            shutil.copytree(original, work)
            interrupted = run_killed(command, rng.uniform(0.0, duration))
            got = answers(work)
            assert got in (before_answers, after_answers), (
                f"{name} killed: the index answers neither as before nor after"
            )
            outcomes.append((name, interrupted, got == after_answers))
        shutil.rmtree(work)
    assert sum(interrupted for _, interrupted, _ in outcomes) >= KILLS, "most kills should land mid-run"
    assert any(not done for _, interrupted, done in outcomes if interrupted)


def test_readers_keep_answering_while_an_update_runs(shared, tmp_path):
    path = tmp_path / "index"
    build_index(FIRST, path, model=TEST_MODEL)
    reader = Index.open(path)
    expected = {q: [m.nct_id for m in reader.related(q, k=5)] for q in QUERIES}
    process = subprocess.Popen(
        [sys.executable, "-m", "similar", "update", *map(str, SECOND), "--index", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    fresh_opens = 0
    while process.poll() is None:
        assert {q: [m.nct_id for m in reader.related(q, k=5)] for q in QUERIES} == expected
        with Index.open(path) as index:
            index.related(QUERIES[0], k=5)
            fresh_opens += 1
    assert process.returncode == 0, process.stderr.read()
    assert fresh_opens > 0
    assert {q: [m.nct_id for m in reader.related(q, k=5)] for q in QUERIES} == expected  # still the old generation
    reader.close()
    assert update_index(SECOND, path).added == 0


def test_a_writer_waits_while_another_holds_the_index(shared, tmp_path):
    path = tmp_path / "index"
    build_index(FIRST, path, model=TEST_MODEL)
    published = current_generation(path)
    with writer_lock(path):
        writer = threading.Thread(target=update_index, args=(SECOND, path))
        writer.start()
        writer.join(timeout=1.0)
        assert writer.is_alive(), "the update should wait for the lock"
        assert current_generation(path) == published
    writer.join(timeout=60)
    assert not writer.is_alive()
    assert current_generation(path) != published
    with Index.open(path) as index:
        assert all(nct in index for nct in nct_ids(SECOND))


def test_two_updates_at_once_both_land(shared, tmp_path):
    path = tmp_path / "index"
    build_index([DATA / "api-v2"], path, model=TEST_MODEL)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "similar", "update", str(source), "--index", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for source in (DATA / "api-v1-classic", DATA / "ctg-studies-2025.csv")
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read()
    with Index.open(path) as index:
        assert set(index.store.nct_ids()) == nct_ids([DATA / "api-v2", DATA / "api-v1-classic", *SECOND])
