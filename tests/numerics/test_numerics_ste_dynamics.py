"""The batched STE-dynamics engine against a plain per-trial loop; reproducibility; certified absorption."""

import numpy as np
import pytest

from stecheck.errors import InvalidArgument
from stecheck.numerics import ste_dynamics as sd
from stecheck.numerics.seeding import chunk_seed


def _records_from_reference(model, seed, trials, steps, init_hamming=None):
    """Visits, escapes, first hit and final state recomputed from the reference trajectories."""
    out = []
    for i in range(trials):
        data = sd.generate_trial(model, chunk_seed(seed, i), init_hamming)
        ref = sd.reference_trial(model, data, steps)
        at = ref["at"]
        visits = sum(1 for t, a in enumerate(at) if a and (t == 0 or not at[t - 1]))
        escapes = sum(1 for t in range(1, len(at)) if at[t - 1] and not at[t])
        first = next((t for t, a in enumerate(at) if a), -1)
        ham = [int(np.count_nonzero(np.where(s >= 0, 1.0, -1.0) != ref["s_star"])) for s in ref["states"]]
        out.append({"visits": visits, "escapes": escapes, "first": first, "time_at": sum(at), "final": at[-1],
                    "final_ham": ham[-1], "min_ham": min(ham), "loss_all": float(np.mean(ref["losses"]))})
    return out


CASES = [
    sd.STEModel(n=6, m=24),
    sd.STEModel(n=5, m=10, k=3, v=(1.0, -1.0, 0.5)),
    sd.STEModel(n=6, m=40, noise=0.3),
    sd.STEModel(n=6, m=30, inputs="bernoulli01", normalize="standardize", schedule="constant", lr=0.5),
    sd.STEModel(n=4, m=20, proxy="identity"),
]


@pytest.mark.parametrize("model", CASES, ids=lambda m: m.key()[:40])
def test_engine_matches_the_per_trial_reference_loop(model):
    seed = sd.cell_seed(3, "TEST", model.key())
    trials, steps = 12, 60
    tr = sd.simulate(model, trials=trials, steps=steps, seed=seed, block_size=5)
    ref = _records_from_reference(model, seed, trials, steps)
    assert tr.visits.tolist() == [r["visits"] for r in ref]
    assert tr.escapes.tolist() == [r["escapes"] for r in ref]
    assert tr.first_hit.tolist() == [r["first"] for r in ref]
    assert tr.time_at.tolist() == [r["time_at"] for r in ref]
    assert tr.final_at.tolist() == [r["final"] for r in ref]
    assert tr.final_hamming.tolist() == [r["final_ham"] for r in ref]
    assert tr.min_hamming.tolist() == [r["min_ham"] for r in ref]
    np.testing.assert_allclose(tr.loss_all, [r["loss_all"] for r in ref], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("model", [sd.STEModel(n=8, m=32), sd.STEModel(n=6, m=40, noise=0.3, k=2)])
def test_bit_identical_for_any_block_size(model):
    seed = sd.cell_seed(0, "TEST", model.key())
    runs = [sd.simulate(model, trials=13, steps=80, seed=seed, block_size=b) for b in (1, 4, 13)]
    assert runs[0].equal(runs[1]) and runs[0].equal(runs[2])
    other = sd.simulate(model, trials=13, steps=80, seed=sd.cell_seed(1, "TEST", model.key()))
    assert not runs[0].equal(other)


def test_a_prefix_of_trials_is_the_same_in_a_larger_run():
    model = sd.STEModel(n=8, m=32)
    seed = sd.cell_seed(0, "TEST", model.key())
    small = sd.simulate(model, trials=5, steps=50, seed=seed)
    big = sd.simulate(model, trials=9, steps=50, seed=seed, block_size=2)
    assert np.array_equal(small.first_hit, big.first_hit[:5]) and np.array_equal(small.hamming, big.hamming[:5])


def test_absorption_is_certified_from_a_zero_gradient_and_holds_in_the_reference():
    model = sd.STEModel(n=8, m=64)
    seed = sd.cell_seed(0, "TEST", model.key())
    tr = sd.simulate(model, trials=10, steps=200, seed=seed, init_hamming=0)
    assert (tr.absorbed_at == 0).all() and tr.final_at.all() and (tr.time_at == 201).all()
    # with label noise, w* is not a fixed point: nothing is absorbed at w*
    noisy = sd.simulate(model.with_(noise=0.2), trials=10, steps=200, seed=seed, init_hamming=0)
    assert not ((noisy.absorbed_at >= 0) & noisy.final_at).any()
    # an escape from w* happens iff the drift -g(w*) points out of the orthant in some coordinate
    # (the schedule is non-summable); a trial whose drift points inward stays
    for i in range(10):
        X, y, s_star, _ = sd.generate_trial(noisy.model, chunk_seed(seed, i), 0)
        g, _ = sd.ste_gradient(noisy.model, X, y, s_star)
        out = g[0] * s_star > 0
        if not out.any():
            assert noisy.escapes[i] == 0, i
            continue
        # while at w*, u_t = w* - (sum_{s<t} eta_s) g(w*): coordinate i leaves once the sum exceeds |w*_i| / |g_i|
        need = np.min(1 / np.sqrt(8) / np.abs(g[0][out]))
        if np.cumsum(sd.learning_rates("inv-sqrt", 1.0, 200))[-1] > need * (1 + 1e-12):
            assert noisy.escapes[i] > 0, i


def test_zero_proxy_freezes_every_trial_at_its_start():
    model = sd.STEModel(n=8, m=32, proxy="zero")
    tr = sd.simulate(model, trials=6, steps=30, seed=sd.cell_seed(0, "TEST", model.key()))
    assert (tr.absorbed_at == 0).all()
    assert np.array_equal(tr.final_hamming, tr.hamming[:, 0])


def test_no_projection_never_equals_w_star():
    model = sd.STEModel(n=6, m=60, project=False)
    seed = sd.cell_seed(0, "TEST", model.key())
    tr = sd.simulate(model, trials=5, steps=40, seed=seed, init_hamming=2)
    ref = _records_from_reference(model, seed, 5, 40, init_hamming=2)
    assert tr.time_at.tolist() == [r["time_at"] for r in ref] == [0] * 5


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 1, "m": 4}, "n=1"), ({"n": 4, "m": 0}, "m=0"), ({"n": 4, "m": 4, "k": 0}, "k=0"),
    ({"n": 4, "m": 4, "noise": -0.1}, "noise"), ({"n": 4, "m": 4, "inputs": "cauchy"}, "valid: gaussian"),
    ({"n": 4, "m": 4, "schedule": "inv-square"}, "summable"),
])
def test_bad_input_is_one_clear_message(kwargs, match):
    with pytest.raises(InvalidArgument, match=match):
        sd.STEModel(**kwargs)


def test_checkpointed_run_resumes_bit_identically(tmp_path):
    model = sd.STEModel(n=8, m=40, noise=0.2)
    seed = sd.cell_seed(0, "TEST", model.key())
    ref = sd.simulate(model, trials=11, steps=60, seed=seed)
    first = sd.simulate_distributed(model, trials=11, steps=60, seed=seed, block_size=4, checkpoint_dir=tmp_path)
    files = sorted(tmp_path.glob("ste-*.npz"))
    assert len(files) == 3 and first.equal(ref)
    files[1].unlink()  # an interrupted run: one block missing
    resumed = sd.simulate_distributed(model, trials=11, steps=60, seed=seed, block_size=4, checkpoint_dir=tmp_path)
    assert resumed.equal(ref) and len(list(tmp_path.glob("ste-*.npz"))) == 3


@pytest.mark.cluster
def test_one_dask_task_per_block_gives_the_same_records():
    from stecheck.numerics.distributed import local_client

    model = sd.STEModel(n=8, m=40, noise=0.2)
    seed = sd.cell_seed(0, "TEST", model.key())
    ref = sd.simulate(model, trials=10, steps=50, seed=seed)
    with local_client(2) as client:
        out = sd.simulate_distributed(model, trials=10, steps=50, seed=seed, block_size=3, client=client)
    assert out.equal(ref)


# ---------------------------------------------------------------------------- several cells, one batch of block tasks


def _jobs():
    cells = [sd.STEModel(n=8, m=40, noise=0.2), sd.STEModel(n=6, m=30, k=3, v=(1.0, -1.0, 0.5)),
             sd.STEModel(n=6, m=36)]
    return [sd.CellJob(mdl, 9, 40, sd.cell_seed(3, "TEST", mdl.key()), init) for mdl, init in zip(cells, (0, None, 2))]


def test_simulate_cells_equals_one_simulate_per_cell_for_any_block_split():
    jobs = _jobs()
    refs = [sd.simulate(j.model, trials=j.trials, steps=j.steps, seed=j.seed, init_hamming=j.init_hamming)
            for j in jobs]
    for block_size in (None, 1, 4, 9):
        out = sd.simulate_cells(jobs, block_size=block_size)
        assert all(tr.equal(ref) for (tr, _), ref in zip(out, refs))
        ranges = [sd.block_ranges(j.model, j.trials, j.steps, block_size) for j in jobs]
        assert [c["blocks"] for _, c in out] == [len(r) for r in ranges]
        assert all(r[0][0] == 0 and r[-1][1] == 9 and all(a[1] == b[0] for a, b in zip(r, r[1:])) for r in ranges)


def test_block_ranges_split_by_work():
    big, small = sd.STEModel(n=256, m=8192), sd.STEModel(n=8, m=16)
    assert sd.block_ranges(small, 200, 400) == [(0, 200)]  # a cheap cell is one task
    r = sd.block_ranges(big, 200, 400)  # 8.4e8 units per trial: blocks of BLOCK_MIN_TRIALS
    assert len(r) == 25 and all(b - a == sd.BLOCK_MIN_TRIALS for a, b in r)


def test_a_single_trial_is_a_valid_cell():
    # boundary of the trials checks (minimum 1; claims accept trials=1 as a parameter): seed-12 survivor
    # block_ranges "minimum=1 -> 2"
    model = sd.STEModel(n=8, m=16)
    assert sd.block_ranges(model, 1, 10) == [(0, 1)]
    assert sd.block_ranges(model, 1, 10, block_size=1) == [(0, 1)]
    job = sd.CellJob(model, 1, 10, sd.cell_seed(0, "TEST", "one"))
    (tr, _), = sd.simulate_cells([job])
    assert tr.time_at.shape == (1,) and sd.record_invariants(tr) == []
    for bad in (0, -1):
        with pytest.raises(InvalidArgument, match="trials"):
            sd.block_ranges(model, bad, 10)


def test_simulate_cells_resumes_from_its_checkpoints(tmp_path):
    jobs = _jobs()
    first = sd.simulate_cells(jobs, block_size=4, checkpoint_dir=tmp_path)
    files = sorted(tmp_path.glob("ste-*.npz"))
    assert len(files) == 9  # 3 cells x 3 blocks
    for f in files[::2]:  # an interrupted run: some blocks missing
        f.unlink()
    resumed = sd.simulate_cells(jobs, block_size=4, checkpoint_dir=tmp_path)
    assert all(a.equal(b) for (a, _), (b, _) in zip(first, resumed))
    assert len(list(tmp_path.glob("ste-*.npz"))) == 9 and not list(tmp_path.glob("*.tmp*"))


@pytest.mark.cluster
def test_simulate_cells_on_two_workers_gives_the_same_records():
    from stecheck.numerics.distributed import local_client

    jobs = _jobs()
    local = sd.simulate_cells(jobs, block_size=2)
    with local_client(2) as client:
        remote = sd.simulate_cells(jobs + jobs[:1], block_size=2, client=client)  # a repeated cell shares its tasks
    assert all(a.equal(b) for (a, _), (b, _) in zip(local, remote)) and remote[3][0].equal(local[0][0])
    assert [c["blocks"] for _, c in remote] == [5, 5, 5, 5]


@pytest.mark.parametrize("model", CASES[:3], ids=lambda m: m.key()[:40])
def test_replay_audit_agrees_with_the_engine_and_sees_a_corrupted_record(model):
    seed = sd.cell_seed(5, "TEST", model.key())
    job = sd.CellJob(model, 4, 60, seed, None)
    tr = sd.simulate(model, trials=4, steps=60, seed=seed)
    for i in range(4):
        audit = sd.replay_audit(job, tr, i)
        assert audit["mismatches"] == {} and "loss_late" in audit["compared"] and "fraction_at_late" in audit["compared"]
    # the late-loss average over T - T//2 + 1 states, recounted: a wrong normalization is seen
    lossy = np.flatnonzero(tr.loss_late > 0)
    assert lossy.size or model.noise == 0.0  # with label noise the loss never vanishes
    if lossy.size:
        tr.loss_late[lossy[0]] *= (60 - 30 + 1) / (60 - 30 + 2)
        assert set(sd.replay_audit(job, tr, int(lossy[0]))["mismatches"]) == {"loss_late"}
    tr.time_at_late[2] += 1
    assert set(sd.replay_audit(job, tr, 2)["mismatches"]) >= {"time_at_late", "fraction_at_late"}


def test_the_selftest_exercises_output_weights_other_than_one(monkeypatch):
    """The seed-14 survivors r * v -> r / v (engine gradient and reference loop) pass every cell with v = 1."""
    from stecheck.numerics import ste_dynamics as sd

    assert sd.reference_selftest() == {}
    orig = sd.ste_gradient

    def divided(model, X, y, s):
        g, r = orig(model, X, y, s)
        return (g / 4.0 if any(float(x) != 1.0 for x in model.v_array) else g), r  # v = (2, 1): 6 -> 1.5

    monkeypatch.setattr(sd, "ste_gradient", divided)
    bad = sd.reference_selftest()
    assert set(bad) == {"weighted", "weighted-identity"}
    assert all("ste_gradient at t = 0 (closed form)" in b for b in bad.values())


def test_engine_selftest_passes_and_catches_planted_faults(monkeypatch):
    """The once-per-process engine self-test (normalizations, a batched k = 2, v = (2, 1) step of both proxies,
    the block split, the block rule) passes on the engine and fails on planted errors of each part."""
    import numpy as np

    from stecheck.numerics import ste_dynamics as sd

    assert sd.engine_selftest() == []
    real = sd._normalize
    monkeypatch.setattr(sd, "_normalize", lambda Z, how: real(Z, how) if how != "scale" else Z / np.sqrt(
        (Z * Z).mean(axis=1, keepdims=True)))
    assert any("_normalize('scale')" in b for b in sd.engine_selftest())
    monkeypatch.setattr(sd, "_normalize", real)
    monkeypatch.setattr(sd, "BLOCK_WORK", 8.0e9)
    assert any("block_ranges" in b for b in sd.engine_selftest())


def test_engine_selftest_runs_the_reference_selftest(monkeypatch):
    """A wrong ste_gradient (r / v for r v) is caught by the engine self-test every simulating claim runs."""
    from stecheck.numerics import ste_dynamics as sd

    real = sd.ste_gradient

    def wrong(model, X, y, s):
        g, r = real(model, X, y, s)
        return g / model.v_array.max() ** 2, r  # wrong whenever some v_a != 1

    monkeypatch.setattr(sd, "ste_gradient", wrong)
    assert any("ste_gradient" in b for b in sd.engine_selftest())


# ------------------------------------------------------------------ session 13: the self-tests must say no

def _exact_batch(model, data, steps):
    """The STE-gradient recursion of one trial of the self-test batch in exact rationals (``n = 5``): the latent is
    ``u_t = s_0 / sqrt(5) - q_t`` with ``q_t`` rational; ``sign(+-1/sqrt(5) - q)`` is decided by comparing ``q^2`` with
    ``1/5`` (never equal for a rational ``q``).  Returns the Hamming distances at ``t = 0..steps`` and ``m g(w_0)``."""
    from fractions import Fraction as F

    X, y, s_star, s0 = data
    m, k, n = model.m, model.k, model.n
    v = [F(x) for x in model.v_array]
    Xf, yf, eta = [[F(x) for x in row] for row in X], [F(x) for x in y], F(model.lr)

    def nonneg(a, q):  # a / sqrt(n) - q >= 0 for a = +-1
        return (q <= 0 or q * q < F(1, n)) if a > 0 else (q < 0 and q * q > F(1, n))

    q, hams, mg0 = [F(0)] * n, [], None
    for t in range(steps + 1):
        s = [1 if nonneg(int(s0[i]), q[i]) else -1 for i in range(n)]
        hams.append(sum(s[i] != s_star[i] for i in range(n)))
        mg = [F(0)] * n
        for j in range(m):
            act = [sum(Xf[j * k + a][i] * s[i] for i in range(n)) > 0 for a in range(k)]
            r = sum(v[a] for a in range(k) if act[a]) - yf[j]
            for a in range(k):
                if model.proxy == "identity" or (model.proxy == "relu" and act[a]):
                    for i in range(n):
                        mg[i] += r * v[a] * Xf[j * k + a][i]
        if t == 0:
            mg0 = mg
        q = [q[i] + eta * mg[i] / m for i in range(n)]
    return tuple(hams), tuple(mg0)


def test_batch_known_answers_are_the_exact_recursion():
    model, data = sd._selftest_batch()
    for (proxy, i), (hams, mg0) in sd._BATCH_KNOWN.items():
        assert _exact_batch(model.with_(proxy=proxy), data[i], 6) == (hams, tuple(float(x) for x in mg0))


def test_engine_selftest_refuses_other_batch_data(monkeypatch):
    model, data = sd._selftest_batch()
    X1, y1, star, s0 = data[0]
    moved = [(X1, y1 + np.array([0.0, 0.0, 1.0]), star, s0), data[1]]  # one label moved by 1
    monkeypatch.setattr(sd, "_selftest_batch", lambda: (model, moved))
    assert any("exact recursion" in b for b in sd.engine_selftest())


def test_invariants_selftest_passes_and_catches_a_loosened_bound(monkeypatch):
    assert sd._invariants_selftest() == []
    real = sd.record_invariants

    def loose(tr, init_hamming=None):  # the late bound T - T//2 + 2: one state too many allowed
        return [b for b in real(tr, init_hamming) if not b.startswith("0 <= time_at_late")
                or not np.all(tr.time_at_late <= tr.steps - tr.steps // 2 + 2)]

    monkeypatch.setattr(sd, "record_invariants", loose)
    assert any("time_at_late" in b for b in sd._invariants_selftest())


def test_reference_selftest_pins_the_horizon_by_the_mean_loss(monkeypatch):
    real = sd._selftest_cases

    def longer():
        cases = real()
        model, data, steps = cases["escape-at-1"]
        return {**cases, "escape-at-1": (model, data, steps + 1)}  # the counts of this case do not depend on T

    monkeypatch.setattr(sd, "_selftest_cases", longer)
    assert set(sd.reference_selftest()) == {"escape-at-1"}
    assert "loss_all (closed form)" in sd.reference_selftest()["escape-at-1"]


def test_replay_compares_the_fraction_of_time_at_w_star(monkeypatch):
    model, data, steps = sd._selftest_cases()["tie"]
    tr = sd.simulate_block(model, [data], steps, sd.learning_rates(model.schedule, model.lr, steps))
    compared, bad = sd._compare_with_reference(model, data, steps, tr, 0)
    assert "fraction_at" in compared and bad == {}
    monkeypatch.setattr(sd.Trajectories, "fraction_at", lambda self, late=False: -(self.time_at / (self.steps + 1)))
    assert "fraction_at" in sd._compare_with_reference(model, data, steps, tr, 0)[1]


def test_engine_selftest_catches_a_wrong_block_offset(monkeypatch):
    def concat(cls, parts, offsets):  # the event lists' trial indices with o - i for o + i
        kw = {a: np.concatenate([getattr(p, a) for p in parts]) for a in cls._ARRAYS}
        exc = [(o - i, a, b) for p, o in zip(parts, offsets) for (i, a, b) in p.excursions]
        soj = [(o - i, a, b) for p, o in zip(parts, offsets) for (i, a, b) in p.sojourns]
        return cls(model=parts[0].model, steps=parts[0].steps, checkpoints=parts[0].checkpoints, excursions=exc,
                   sojourns=soj, **kw)

    monkeypatch.setattr(sd.Trajectories, "concat", classmethod(concat))
    assert any(b.startswith("simulate(block_size=2)") for b in sd.engine_selftest())


def test_block_routes_accept_the_smallest_block():
    assert sd.block_ranges(sd.STEModel(n=3, m=3), 3, 12, block_size=1) == [(0, 1), (1, 2), (2, 3)]
    with pytest.raises(InvalidArgument, match="block_size"):
        sd.block_ranges(sd.STEModel(n=3, m=3), 3, 12, block_size=0)


def test_replay_compares_late_counts_and_event_lists():
    """The records read by the claims but formerly compared with nothing (returns_late, escapes_late, the event lists)
    are recomputed from the reference states; tampered copies are reported under their names."""
    import dataclasses

    model, data, steps = sd._selftest_cases()["oscillation"]  # two escapes (one at t = T), one return
    tr = sd.simulate_block(model, [data], steps, sd.learning_rates(model.schedule, model.lr, steps))
    compared, bad = sd._compare_with_reference(model, data, steps, tr, 0)
    assert {"returns_late", "escapes_late", "excursions", "sojourns"} <= set(compared) and bad == {}
    assert tr.excursions == [(0, 1, 2)] and sorted(tr.sojourns) == [(0, 0, 1), (0, 2, 1)]
    tampered = dataclasses.replace(tr, sojourns=[(0, 0, 1), (0, 2, 2)], escapes_late=tr.escapes_late + 1)
    bad = sd._compare_with_reference(model, data, steps, tampered, 0)[1]
    assert set(bad) == {"sojourns", "escapes_late"}


def test_reference_selftest_checks_absorption_records(monkeypatch):
    """absorbed_at has closed forms in every hand-made case; an engine that never certified absorption is reported."""
    real = sd.run_block

    def never_absorbed(*a, **kw):
        import dataclasses

        tr = real(*a, **kw)
        return dataclasses.replace(tr, absorbed_at=np.full_like(tr.absorbed_at, -1))

    monkeypatch.setattr(sd, "run_block", never_absorbed)
    bad = sd.reference_selftest()
    assert "absorbed-at-star" in bad and "absorbed_at (closed form)" in bad["absorbed-at-star"]


def test_generate_trial_selftest_passes_and_says_no(monkeypatch):
    assert sd._generate_trial_selftest() == []
    real = sd.generate_trial

    def ties_fire(model, seed, init_hamming=None):  # the teacher's Heaviside taken as 1{x . s* >= 0}
        X, y, s_star, s0 = real(model, seed, init_hamming)
        g = sd.make_rng(seed)
        g.integers(0, 2, size=model.n)
        if init_hamming is None:
            g.integers(0, 2, size=model.n)
        else:
            g.choice(model.n, size=init_hamming, replace=False)
        sd.INPUTS[model.inputs][0](g, (model.m, model.k, model.n))
        eps = g.standard_normal(model.m)
        act = (X @ s_star >= 0).reshape(model.m, model.k).astype(float)
        return X, act @ model.v_array + model.noise * eps, s_star, s0

    monkeypatch.setattr(sd, "generate_trial", ties_fire)
    assert any(": y = " in b for b in sd._generate_trial_selftest())
