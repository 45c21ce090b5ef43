"""The matchmaking-day scheduler: every schedule feasible, optimal on small inputs, invalid input
refused by the command, and a re-schedule after a cancellation moves few meetings."""
import itertools
import json
import random
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import meetings, meetings_bench
from matching.meetings import build_problem, greedy_schedule, lp_bound, schedule

FAST = {"time_limit": 5.0, "max_iterations": 3000}


def assert_feasible(doc, result):
    """Checked here from the input document alone, independently of the library's checker."""
    slots, tables = doc["slots"], doc["tables"]
    available = {p["id"]: set(p["available"]) for p in doc["participants"]}
    requested = {frozenset((r["a"], r["b"])) for r in doc["requests"]}
    seen_pairs, busy, taken = set(), set(), set()
    for m in result.meetings:
        pair = frozenset((m.a, m.b))
        assert pair in requested, m
        assert pair not in seen_pairs, f"{m}: pair twice"
        seen_pairs.add(pair)
        assert m.slot in slots and 1 <= m.table <= tables, m
        assert (m.slot, m.table) not in taken, f"{m}: table holds two"
        taken.add((m.slot, m.table))
        for person in (m.a, m.b):
            assert m.slot in available[person], f"{m}: {person} not present"
            assert (person, m.slot) not in busy, f"{m}: {person} has two meetings"
            busy.add((person, m.slot))
    unscheduled = {frozenset(p) for p in result.unscheduled}
    assert not unscheduled & seen_pairs
    assert unscheduled | seen_pairs == requested
    weights = {frozenset((r["a"], r["b"])): r["weight"] for r in doc["requests"]}
    assert result.total_weight == pytest.approx(sum(weights[frozenset((m.a, m.b))]
                                                    for m in result.meetings))


def run_schedule(doc, previous=None, **kwargs):
    return schedule(doc["slots"], doc["tables"], doc["participants"], doc["requests"],
                    previous, **{**FAST, **kwargs})


@st.composite
def instances(draw, max_people=8, max_slots=4, max_tables=3, max_requests=None):
    n_slots = draw(st.integers(1, max_slots))
    slots = [f"s{i}" for i in range(n_slots)]
    n_people = draw(st.integers(2, max_people))
    people = [{"id": f"p{i}", "available": draw(st.lists(st.sampled_from(slots), unique=True))}
              for i in range(n_people)]
    all_pairs = list(itertools.combinations(range(n_people), 2))
    chosen = draw(st.lists(st.sampled_from(all_pairs), unique=True,
                           max_size=max_requests or len(all_pairs)))
    requests = []
    for i, j in chosen:
        a, b = (i, j) if draw(st.booleans()) else (j, i)
        requests.append({"a": f"p{a}", "b": f"p{b}",
                         "weight": draw(st.sampled_from([0.5, 1, 1.5, 2, 3.25, 5]))})
    return {"slots": slots, "tables": draw(st.integers(1, max_tables)),
            "participants": people, "requests": requests}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_people=10, max_slots=5), st.integers(0, 3), st.booleans(), st.data())
def test_every_schedule_is_feasible(doc, seed, exact, data):
    result = run_schedule(doc, random_state=seed, exact=exact)
    assert_feasible(doc, result)
    assert result.total_weight <= lp_bound(build_problem(**doc)) + 1e-6

    # A re-schedule from that schedule after random cancellations, absences and fewer tables
    # is feasible too, and keeps every previous meeting that is still possible in place.
    ids = [p["id"] for p in doc["participants"]]
    gone = data.draw(st.sets(st.sampled_from(ids)))
    absent = data.draw(st.sets(st.sampled_from(ids)))
    leaving = data.draw(st.sets(st.sampled_from(doc["slots"])))
    tables = data.draw(st.integers(1, doc["tables"]))
    after = {**doc, "tables": tables,
             "participants": [{"id": p["id"],
                               "available": [s for s in p["available"]
                                             if p["id"] not in absent or s not in leaving]}
                              for p in doc["participants"] if p["id"] not in gone],
             "requests": [r for r in doc["requests"] if r["a"] not in gone and r["b"] not in gone]}
    previous = [m.to_dict() for m in result.meetings]
    again = run_schedule(after, previous, random_state=seed, exact=exact)
    assert_feasible(after, again)
    assert again.kept + len(again.moved) + len(again.dropped) == len(previous)
    still_possible = [m for m in result.meetings
                      if not {m.a, m.b} & gone and m.table <= tables
                      and not ({m.a, m.b} & absent and m.slot in leaving)]
    assert again.kept == len(still_possible)
    assert {(m.a, m.b) for m in still_possible} <= {(m.a, m.b) for m in again.meetings}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_people=8, max_slots=4), st.data())
def test_reschedule_from_a_damaged_previous_schedule_is_feasible(doc, data):
    # A previous schedule edited by hand: tables and slots shuffled, two meetings may share a
    # table or a person, a meeting may sit in a slot someone is absent from.
    result = run_schedule(doc)
    previous = [{**m.to_dict(), "slot": data.draw(st.sampled_from(doc["slots"] + ["gone"])),
                 "table": data.draw(st.integers(1, doc["tables"] + 1))}
                for m in result.meetings]
    again = run_schedule(doc, previous)
    assert_feasible(doc, again)
    assert again.kept + len(again.moved) == len(previous)


def brute_force_optimum(doc) -> float:
    problem = build_problem(**doc)
    options = [[-1, *c] for c in problem.cand]
    best = 0.0
    for choice in itertools.product(*options):
        busy, load, total = set(), {}, 0.0
        for e, s in enumerate(choice):
            if s < 0:
                continue
            a, b = (problem.ea[e], s), (problem.eb[e], s)
            if a in busy or b in busy or load.get(s, 0) >= problem.tables:
                break
            busy |= {a, b}
            load[s] = load.get(s, 0) + 1
            total += problem.weight[e]
        else:
            best = max(best, total)
    return best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(max_people=5, max_slots=3, max_tables=2, max_requests=7))
def test_optimal_on_small_inputs(doc):
    result = run_schedule(doc)
    assert result.stats["method"] == "exact"
    assert result.total_weight == pytest.approx(brute_force_optimum(doc))


def tiny_instance(rng: random.Random) -> dict:
    slots = [f"s{i}" for i in range(rng.randint(1, 4))]
    n_people = rng.randint(2, 7)
    people = [{"id": f"p{i}", "available": [s for s in slots if rng.random() < 0.8]}
              for i in range(n_people)]
    pairs = list(itertools.combinations(range(n_people), 2))
    rng.shuffle(pairs)
    requests = [{"a": f"p{i}", "b": f"p{j}", "weight": rng.choice([0.5, 1, 1.5, 2, 3.25, 5])}
                for i, j in pairs[: rng.randint(0, 9)]]
    return {"slots": slots, "tables": rng.randint(1, 2), "participants": people,
            "requests": requests}


def test_search_alone_finds_the_optimum_on_small_inputs():
    # The search without the exact solver, on 200 seeded random inputs (deterministic: the
    # search runs a fixed number of moves). It is a heuristic: today it finds the optimum on
    # 199 of them and 0.985 of it on the last.
    rng = random.Random(20261127)
    ratios = []
    for _ in range(200):
        doc = tiny_instance(rng)
        optimum = brute_force_optimum(doc)
        result = run_schedule(doc, exact=False)
        assert result.stats["method"] == "search"
        ratios.append(result.total_weight / optimum if optimum else 1.0)
    assert sum(r > 1 - 1e-9 for r in ratios) >= 198
    assert min(ratios) >= 0.95


def test_hand_made_case():
    # One table; p2 is present only in s2, p4 only in s1.
    doc = {"slots": ["s1", "s2"], "tables": 1,
           "participants": [{"id": "p1", "available": ["s1", "s2"]},
                            {"id": "p2", "available": ["s2"]},
                            {"id": "p3", "available": ["s1", "s2"]},
                            {"id": "p4", "available": ["s1"]}],
           "requests": [{"a": "p1", "b": "p2", "weight": 1.0},
                        {"a": "p3", "b": "p1", "weight": 4.0},
                        {"a": "p4", "b": "p3", "weight": 2.0}]}
    for exact in (True, False):
        result = run_schedule(doc, exact=exact)
        # p3-p1 in s2 and p4-p3 in s1 (6) beat p1-p2 in s2 and p3-p1 in s1 (5).
        assert result.total_weight == 6.0
        placed = {(m.a, m.b): (m.slot, m.table) for m in result.meetings}
        assert placed == {("p3", "p1"): ("s2", 1), ("p4", "p3"): ("s1", 1)}
        assert result.unscheduled == [("p1", "p2")]


def test_same_seed_same_schedule():
    doc = meetings_bench.generate(3, participants=30, slots=6, tables=6, requests=120)
    first, second = run_schedule(doc, random_state=7), run_schedule(doc, random_state=7)
    assert first.to_dict() == second.to_dict()


def test_beats_greedy_and_stays_under_the_lp_bound():
    # Many tables, so people (not tables) are the limit and the search has room to improve.
    doc = meetings_bench.generate(1, participants=60, slots=8, tables=30, requests=400)
    problem = build_problem(**doc)
    result = run_schedule(doc, max_iterations=20000, exact=False)
    assert_feasible(doc, result)
    bound, greedy = lp_bound(problem), greedy_schedule(problem)
    assert greedy < result.total_weight <= bound + 1e-6
    assert result.total_weight >= 0.95 * bound


# ---------------------------------------------------------------------------------------------
# Re-scheduling.

@pytest.fixture(scope="module")
def day():
    doc = meetings_bench.generate(5, participants=80, slots=10, tables=20, requests=500)
    return doc, run_schedule(doc, max_iterations=10000)


def test_late_cancellation_moves_no_remaining_meeting(day):
    doc, before = day
    gone = before.meetings[0].a
    after = {**doc, "participants": [p for p in doc["participants"] if p["id"] != gone],
             "requests": [r for r in doc["requests"] if gone not in (r["a"], r["b"])]}
    previous = [m.to_dict() for m in before.meetings]
    again = run_schedule(after, previous)
    assert_feasible(after, again)
    hers = [m for m in before.meetings if gone in (m.a, m.b)]
    assert len(again.dropped) == len(hers) > 0
    assert again.moved == []
    assert again.kept == len(before.meetings) - len(hers)
    old_places = {(m.a, m.b, m.slot, m.table) for m in before.meetings}
    kept = [m for m in again.meetings if (m.a, m.b, m.slot, m.table) in old_places]
    assert len(kept) == again.kept
    # Her freed places are offered to others: the total drops by at most what she had.
    assert again.total_weight >= before.total_weight - sum(m.weight for m in hers) - 1e-9


def test_absence_moves_only_the_meetings_that_became_impossible(day):
    doc, before = day
    # The busiest participant leaves after the first half of the day.
    counts = {}
    for m in before.meetings:
        for person in (m.a, m.b):
            counts[person] = counts.get(person, 0) + 1
    leaver = max(counts, key=counts.get)
    first_half = doc["slots"][: len(doc["slots"]) // 2]
    after = {**doc, "participants": [
        {**p, "available": [s for s in p["available"] if s in first_half]}
        if p["id"] == leaver else p for p in doc["participants"]]}
    previous = [m.to_dict() for m in before.meetings]
    again = run_schedule(after, previous)
    assert_feasible(after, again)
    impossible = [m for m in before.meetings if leaver in (m.a, m.b) and m.slot not in first_half]
    assert impossible
    assert sorted((old.a, old.b) for old, _ in again.moved) == \
        sorted((m.a, m.b) for m in impossible)
    assert again.kept == len(before.meetings) - len(impossible)


def test_keep_bonus_lets_the_search_trade_moves_for_value():
    # Previous schedule put the light request in the only slot both heavy ones could use.
    doc = {"slots": ["s1", "s2"], "tables": 1,
           "participants": [{"id": "p1", "available": ["s1", "s2"]},
                            {"id": "p2", "available": ["s1", "s2"]},
                            {"id": "p3", "available": ["s1"]}],
           "requests": [{"a": "p1", "b": "p2", "weight": 1.0},
                        {"a": "p1", "b": "p3", "weight": 5.0}]}
    previous = [{"a": "p1", "b": "p2", "slot": "s1", "table": 1}]
    pinned = run_schedule(doc, previous)
    assert pinned.kept == 1 and pinned.moved == [] and pinned.total_weight == 1.0
    traded = run_schedule(doc, previous, keep_bonus=0.5)
    assert traded.total_weight == 6.0 and traded.kept == 0
    (old, new), = traded.moved
    assert (old.slot, new.slot) == ("s1", "s2")


def test_previous_meeting_on_a_removed_table_moves_or_keeps_its_slot():
    doc = {"slots": ["s1"], "tables": 1,
           "participants": [{"id": "p1", "available": ["s1"]}, {"id": "p2", "available": ["s1"]}],
           "requests": [{"a": "p1", "b": "p2", "weight": 1.0}]}
    again = run_schedule(doc, [{"a": "p2", "b": "p1", "slot": "s1", "table": 3}])
    assert [m.to_dict() for m in again.meetings] == [{"a": "p1", "b": "p2", "slot": "s1",
                                                      "table": 1}]
    assert again.kept == 0 and len(again.moved) == 1


# ---------------------------------------------------------------------------------------------
# The command.

def write_input(tmp_path, doc):
    source = tmp_path / "in.json"
    source.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return source, tmp_path / "out.json"


def command(tmp_path, doc):
    """The command in a process of its own, as the app or a person runs it."""
    source, out = write_input(tmp_path, doc)
    proc = subprocess.run([sys.executable, "-m", "matching.meetings", str(source), "--out",
                           str(out), "--time-limit", "0.5"],
                          capture_output=True, text=True, timeout=120)
    return proc, out


VALID = {"slots": ["s1", "s2"], "tables": 2,
         "participants": [{"id": "p1", "available": ["s1", "s2"]},
                          {"id": "p2", "available": ["s2"]},
                          {"id": "p3", "available": ["s1", "s2"]}],
         "requests": [{"a": "p1", "b": "p2", "weight": 2.5},
                      {"a": "p3", "b": "p1", "weight": 1},
                      {"a": "p2", "b": "p3", "weight": 1}]}


def test_command_writes_the_schedule(tmp_path):
    proc, out = command(tmp_path, VALID)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result) == {"meetings", "unscheduled"}
    assert result["meetings"] == [{"a": "p3", "b": "p1", "slot": "s1", "table": 1},
                                  {"a": "p1", "b": "p2", "slot": "s2", "table": 1}]
    assert result["unscheduled"] == [{"a": "p2", "b": "p3"}]
    assert "scheduled 2 of 3 requests" in proc.stdout


def test_command_reschedules_from_previous(tmp_path, capsys):
    # p3 cancelled: her meeting is dropped, the other keeps its slot and table.
    doc = {**VALID, "participants": VALID["participants"][:2], "requests": VALID["requests"][:1],
           "previous": [{"a": "p1", "b": "p2", "slot": "s2", "table": 2},
                        {"a": "p3", "b": "p1", "slot": "s1", "table": 1}]}
    source, out = write_input(tmp_path, doc)
    assert meetings.main([str(source), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["meetings"] == [{"a": "p1", "b": "p2", "slot": "s2",
                                                        "table": 2}]
    assert "1 kept, 0 moved, 1 dropped" in capsys.readouterr().out


def with_(**changes):
    doc = json.loads(json.dumps(VALID))
    for path, value in changes.items():
        target = doc
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return doc


INVALID = [
    ("unknown participant", with_(requests__1__b="p9"), "requests[1].b: unknown participant 'p9'"),
    ("request with oneself", with_(requests__0__b="p1"), "requests[0]: a request with oneself ('p1')"),
    ("weight zero", with_(requests__2__weight=0), "requests[2].weight: must be a number > 0, got 0"),
    ("weight negative", with_(requests__2__weight=-1.5), "requests[2].weight: must be a number > 0"),
    ("weight not a number", with_(requests__2__weight="2"), "requests[2].weight: must be a number"),
    ("slot not in the list", with_(participants__1__available=["s2", "s7"]),
     "participants[1].available[1]: slot 's7' is not in slots"),
    ("duplicate participant id", with_(participants__2__id="p1"),
     "participants[2].id: duplicate participant id 'p1'"),
    ("duplicate pair", with_(requests__2={"a": "p2", "b": "p1", "weight": 1}),
     "requests[2]: duplicate pair 'p2'-'p1' (also requests[0])"),
    ("duplicate slot", with_(slots=["s1", "s1"]), "slots[1]: duplicate slot 's1'"),
    ("no tables", with_(tables=0), "tables: must be a whole number of at least 1"),
    ("missing field", with_(requests__0={"a": "p1", "b": "p2"}), "requests[0]: missing 'weight'"),
    ("misspelt field", {**VALID, "previus": []}, "input: unknown field 'previus'"),
    ("previous not a meeting", {**VALID, "previous": [{"a": "p1", "b": "p2", "slot": "s2"}]},
     "previous[0]: missing 'table'"),
    ("not JSON", "{slots: ", "is not valid JSON"),
]


def test_command_refuses_invalid_input_with_exit_status_2(tmp_path):
    proc, out = command(tmp_path, with_(requests__1__b="p9"))
    assert proc.returncode == 2
    assert proc.stderr == "error: requests[1].b: unknown participant 'p9'\n"
    assert not out.exists()


@pytest.mark.parametrize(("doc", "message"), [case[1:] for case in INVALID],
                         ids=[case[0] for case in INVALID])
def test_command_refuses_each_invalid_input(tmp_path, capsys, doc, message):
    # The command's entry point in this process (a process per case would take a minute on a
    # loaded machine); the test above runs it as its own process.
    source, out = write_input(tmp_path, doc)
    assert meetings.main([str(source), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and message in captured.err
    assert captured.out == ""
    assert not out.exists()


def test_api_raises_value_error_naming_the_field():
    with pytest.raises(ValueError, match=r"requests\[0\]\.a: unknown participant 'x'"):
        schedule(["s1"], 1, [{"id": "p1", "available": ["s1"]}], [{"a": "x", "b": "p1",
                                                                    "weight": 1}])


def test_quick_bench_reports_every_target(capsys):
    # Whether the targets are met is for `make bench` on a quiet machine, not for the test suite.
    meetings_bench.main(["--quick", "--json", "--time-limit", "0.3"])
    data = json.loads(capsys.readouterr().out)
    assert data["targets"]["violations"]["value"] == 0
    for instance in data["instances"]:
        bound = instance["lp_bound"]["total_weight"]
        assert instance["greedy"]["total_weight"] <= instance["schedule"]["total_weight"] <= bound + 1e-6
    assert data["reschedule"]["moved"] == 0
