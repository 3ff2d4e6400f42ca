"""numerics.sbn_net: every backward against complex-step (or finite) differences; the binary units against
numerics.estimators; bad input gives one InvalidArgument."""

import numpy as np
import pytest

from stecheck.errors import InvalidArgument, SelfCheckFailed
from stecheck.numerics import estimators, losses
from stecheck.numerics import sbn_net as sn
from stecheck.numerics.noise import NOISES

H = 1e-30  # complex step: f'(x) = Im f(x + iH) / H with no cancellation, error O(H^2)


def _cs_grad(f, x, idx):
    """Complex-step derivative of the real scalar f at x along the flat coordinates idx."""
    out = []
    for i in idx:
        xc = x.astype(np.complex128)
        xc.flat[i] += 1j * H
        out.append(np.imag(f(xc)) / H)
    return np.array(out)


def test_dense_backward_matches_complex_step():
    rng = np.random.default_rng(1)
    x, C = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    layer = sn.Dense.init(rng, 4, 3)
    layer.b = rng.standard_normal(3)
    layer.forward(x)
    gx = layer.backward(C)
    W = layer.W

    def via_W(Wc):
        return (C * (x @ Wc.T + layer.b)).sum()

    def via_x(xc):
        return (C * (xc @ W.T + layer.b)).sum()

    np.testing.assert_allclose(layer.dW.ravel(), _cs_grad(via_W, W, range(W.size)), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(gx.ravel(), _cs_grad(via_x, x, range(x.size)), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(layer.db, C.sum(axis=0), rtol=1e-14)


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_backward_matches_complex_step(affine):
    rng = np.random.default_rng(2)
    x, C = rng.standard_normal((7, 3)) * 2 + 1, rng.standard_normal((7, 3))
    bn = sn.BatchNorm(3, affine=affine)
    if affine:
        bn.gamma, bn.beta = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    bn.forward(x)
    gx = bn.backward(C)

    def f(xc):
        return (C * bn.forward(xc)).sum()

    np.testing.assert_allclose(gx.ravel(), _cs_grad(f, x, range(x.size)), rtol=1e-10, atol=1e-12)
    if affine:
        gam = bn.gamma.copy()

        def fg(gc):
            bn.gamma = gc
            try:
                return (C * bn.forward(x)).sum()
            finally:
                bn.gamma = gam
        np.testing.assert_allclose(bn.dgamma, _cs_grad(fg, gam, range(3)), rtol=1e-12, atol=1e-12)


def test_softmax_cross_entropy_gradient_and_value():
    rng = np.random.default_rng(3)
    Z, y = rng.standard_normal((6, 4)) * 3, rng.integers(0, 4, 6)
    loss, g = sn.softmax_cross_entropy(Z, y)
    ref = -np.mean([Z[b, y[b]] - np.log(np.exp(Z[b]).sum()) for b in range(6)])
    assert abs(loss - ref) < 1e-13
    np.testing.assert_allclose(g.ravel(), _cs_grad(lambda Zc: sn.softmax_cross_entropy(Zc, y)[0], Z, range(Z.size)),
                               rtol=1e-12, atol=1e-14)


def test_relu_backward():
    a = np.array([[-1.0, 0.5, 2.0]])
    np.testing.assert_array_equal(sn.relu_backward(a, np.ones_like(a)), [[0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(sn.relu(a), [[0.0, 0.5, 2.0]])


def test_mlp_weight_gradient_matches_complex_step():
    rng = np.random.default_rng(4)
    X, y = rng.uniform(0, 1, (9, 5)), rng.integers(0, 3, 9)
    net = sn.BinaryWeightMLP(5, 4, 3)
    w = np.tanh(rng.standard_normal(net.n_weights))  # soft weights: the gradient is the same function
    _, g = net.loss_and_grad(w, X, y)
    fd = _cs_grad(lambda wc: sn.softmax_cross_entropy(net.logits(wc, X), y)[0], w, range(net.n_weights))
    np.testing.assert_allclose(g, fd, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("noise", list(NOISES))
@pytest.mark.parametrize("encoding", ["pm1", "01"])
def test_st_backward_is_derivative_of_expected_state(noise, encoding):
    """For a linear downstream loss ST is exact: its scale c F'(a) = d E[x] / da (central differences, h = 1e-6)."""
    unit = sn.StochasticBinary(noise, "st", encoding=encoding)
    a = np.linspace(-1.7, 1.7, 8)[None, :]  # avoids a = 0, the kink of the triangular density
    unit.forward(a, np.random.default_rng(0))
    lo = 0.0 if encoding == "01" else -1.0
    mean = lambda t: lo + (1.0 - lo) * unit.noise.cdf(t)  # E[x] = lo + c F(a)
    h = 1e-6
    fd = (mean(a + h) - mean(a - h)) / (2 * h)
    np.testing.assert_allclose(unit.backward(np.ones_like(a)), fd, atol=1e-8)


@pytest.mark.parametrize("estimator", sn.BINARY_ESTIMATORS)
def test_binary_unit_backward_equals_numerics_estimators(estimator):
    """One layer, shared pre-activation a, loss L(x) = |x W^T - y|^2: the layer's backward = estimators.<name>."""
    rng = np.random.default_rng(5)
    n, B = 4, 64
    a = rng.standard_normal(n)
    loss = losses.Quadratic(rng.standard_normal((3, n)), rng.standard_normal(3))
    unit = sn.StochasticBinary("logistic", estimator)
    X = unit.forward(np.broadcast_to(a, (B, n)).copy(), rng)
    mine = unit.backward(loss.grad(X))
    ref = {"st": estimators.st_estimates, "identity_st": estimators.identity_st_estimates,
           "deterministic_st": estimators.deterministic_st_estimates}[estimator](loss, a, "logistic", X)
    np.testing.assert_allclose(mine, ref, rtol=1e-14, atol=1e-14)


def test_binary_unit_sampling_frequency():
    rng = np.random.default_rng(6)
    a = np.array([-1.0, 0.0, 0.7])
    unit = sn.StochasticBinary("uniform", "st")
    X = unit.forward(np.broadcast_to(a, (40000, 3)).copy(), rng)
    # E[x] = 2F(a) - 1 = a for uniform noise; 6 sigma of a +-1 mean over 40000 samples is 0.03
    np.testing.assert_allclose(X.mean(axis=0), a, atol=0.03)


def test_bernoulli_weights():
    rng = np.random.default_rng(7)
    bw = sn.BernoulliWeights(np.array([-3.0, 0.0, 0.4]), "logistic")
    W = np.stack([bw.sample(rng) for _ in range(20000)])
    np.testing.assert_allclose((W == 1).mean(axis=0), bw.probabilities(), atol=0.02)
    np.testing.assert_array_equal(bw.mode(), [-1.0, 1.0, 1.0])
    g = rng.standard_normal(3)
    assert bw.backward(g) is g


def test_digits_split_is_seeded():
    a, b = sn.load_digits_split(0), sn.load_digits_split(0)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert a.X_train.shape[1] == 64 and a.n_train + a.y_test.size == 1797
    assert 0.0 <= a.X_train.min() and a.X_train.max() <= 1.0


@pytest.mark.parametrize("bad", [
    lambda: sn.StochasticBinary("cauchy"),
    lambda: sn.StochasticBinary("logistic", "arm-ish"),
    lambda: sn.BinaryWeightMLP(64, 0, 10),
    lambda: sn.BatchNorm(0),
    lambda: sn.load_digits_split(0, test_fraction=1.5),
])
def test_bad_input_is_one_clear_line(bad):
    with pytest.raises(InvalidArgument) as exc:
        bad()
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("noise", ["logistic", "uniform", "triangular"])
def test_deep_sbn_backward_is_the_st_surrogate_gradient(noise):
    """The deep SBN's backward = the exact gradient (central differences) of the surrogate network in which each
    binary state is x_rec + 2(F(a) - F(a_rec)) and each binary weight w_rec + (eta - eta_rec): ST (Alg. 1) through
    the units, identity (Alg. 2) through the weights, exact through BN, dense layers and the loss."""
    rng = np.random.default_rng(11)
    net = sn.DeepSBN(rng, noise, d=6, h=5, k=3, depth=2)
    X, y = rng.uniform(0, 1, (8, 6)), rng.integers(0, 3, 8)
    _, g = sn.softmax_cross_entropy(net.forward(X, rng, "train"), y)
    grads = net.backward(g)
    rec = {k: [v.copy() if v is not None else None for v in vs] for k, vs in net.record.items()}

    def loss():
        return sn.softmax_cross_entropy(net.forward(X, None, "train", surrogate=rec), y)[0]

    assert abs(loss() - sn.softmax_cross_entropy(net.forward(X, None, "train", surrogate=rec), y)[0]) == 0
    h = 1e-6
    for name, value in net.params.items():
        for i in rng.choice(value.size, size=min(4, value.size), replace=False):
            old = value.flat[i]
            value.flat[i] = old + h
            up = loss()
            value.flat[i] = old - h
            down = loss()
            value.flat[i] = old
            assert abs((up - down) / (2 * h) - grads[name].flat[i]) <= 1e-6 + 1e-5 * abs(grads[name].flat[i]), name


def test_deep_sbn_init_and_projection():
    rng = np.random.default_rng(12)
    net = sn.DeepSBN(rng, "uniform", d=4, h=50, k=2, depth=1)
    eta = net.params["eta1"]
    assert eta.min() >= -1 and eta.max() <= 1            # eta = F^{-1}(theta), theta ~ U(0, 1)
    assert abs(np.mean(net.noise.cdf(eta)) - 0.5) < 0.05
    eta += 5.0
    net.project()
    assert eta.max() == 1.0


def test_tost():
    same = sn.tost_ind([0.90, 0.91, 0.92, 0.905], [0.905, 0.915, 0.91, 0.90], 0.02)
    assert same["p"] < 0.01
    far = sn.tost_ind([0.90, 0.91, 0.92, 0.905], [0.95, 0.96, 0.955, 0.965], 0.02)
    assert far["p"] > 0.5
    with pytest.raises(InvalidArgument):
        sn.tost_ind([1, 2], [1, 2], 0.0)
    with pytest.raises(InvalidArgument):
        sn.tost_ind([1], [1, 2], 0.1)


def _fd(f, x, idx, h=1e-6):
    out = []
    for i in idx:
        old = x.flat[i]
        x.flat[i] = old + h
        up = f()
        x.flat[i] = old - h
        down = f()
        x.flat[i] = old
        out.append((up - down) / (2 * h))
    return np.array(out)


def test_autoencoder_gradients_match_finite_differences():
    from stecheck.numerics import sbn_autoencoder as sa

    rng = np.random.default_rng(13)
    Y = rng.poisson(2.0, (5, 7)).astype(float)
    ae = sa.StochasticAutoencoder.init(rng, 7, 4, h=6)
    # decoder loss gradient in the code x (what ST differentiates)
    loss = ae.decoder_loss(Y[0])
    X = rng.uniform(0, 1, (1, 4))
    np.testing.assert_allclose(loss.grad(X)[0], _fd(lambda: loss.value(X)[0], X, range(4)), rtol=1e-6, atol=1e-7)
    # encoder vector-Jacobian product: d/dphi sum(G * a(phi))
    G = rng.standard_normal((5, 4))
    _, cache = ae.encode(Y)
    vjp = ae.encoder_vjp(cache, G)
    flat = np.concatenate([ae.p[k].ravel() for k in ae.ENCODER])
    k = 0
    for name in ae.ENCODER:
        P = ae.p[name]
        idx = range(min(5, P.size))
        fd = _fd(lambda: float((G * ae.encode(Y)[0]).sum()), P, idx)
        np.testing.assert_allclose(vjp[k:k + len(idx)], fd, rtol=1e-6, atol=1e-7)
        k += P.size
    assert k == flat.size
    # decoder parameter gradient at fixed codes
    Xs = (rng.uniform(0, 1, (5, 4)) < 0.5).astype(float)
    _, dec = ae.decoder_grads(Xs, Y)
    for name in ("V1", "c1", "V2", "c2"):
        P = ae.p[name]
        idx = range(min(5, P.size))
        np.testing.assert_allclose(dec[name].ravel()[:len(idx)], _fd(lambda: ae.decoder_grads(Xs, Y)[0], P, idx),
                                   rtol=1e-6, atol=1e-7)


def test_topic_corpus_is_reproducible_and_unknown_corpus_fails():
    from stecheck.numerics import sbn_autoencoder as sa

    np.testing.assert_array_equal(sa.topic_corpus(), sa.topic_corpus())
    with pytest.raises(InvalidArgument):
        sa.load_corpus("20newsgroups")
    with pytest.raises(InvalidArgument):
        sa.StochasticAutoencoder.init(np.random.default_rng(0), 10, 0)


# ---------------------------------------------------------------------------- many seeds as one computation


@pytest.mark.parametrize("noise", ["logistic", "uniform", "triangular"])
def test_stack_of_one_is_the_deep_sbn(noise):
    """DeepSBNStack with S = 1 consumes the stream as DeepSBN does and computes the same logits and gradients."""
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    a = sn.DeepSBN(r1, noise, d=12, h=8, k=4, depth=2)
    b = sn.DeepSBNStack(r2, noise, 1, d=12, h=8, k=4, depth=2)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k][0])
    X = np.random.default_rng(1).random((10, 12))
    y = np.random.default_rng(2).integers(0, 4, 10)
    la, lb = a.forward(X, r1, "train"), b.forward(X[None], r2, "train")
    np.testing.assert_allclose(lb[0], la, rtol=1e-12, atol=1e-12)
    ga = a.backward(sn.softmax_cross_entropy(la, y)[1])
    gb = b.backward(sn.softmax_cross_entropy_stack(lb, y[None])[1])
    for k in ga:
        np.testing.assert_allclose(gb[k][0], ga[k], rtol=1e-10, atol=1e-12)
    for mode in ("det", "sample"):
        np.testing.assert_allclose(b.forward(X[None], r2, mode)[0], a.forward(X, r1, mode), rtol=1e-12, atol=1e-12)


def test_stack_predictive_is_a_softmax_over_the_classes():
    """DeepSBNStack.predict_proba normalizes over the class axis (the last), not over the batch: with S = 1 it is
    DeepSBN's predictive, its rows sum to 1, and the deterministic prediction is the argmax of the logits."""
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    a = sn.DeepSBN(r1, "logistic", d=12, h=8, k=4, depth=1)
    b = sn.DeepSBNStack(r2, "logistic", 1, d=12, h=8, k=4, depth=1)
    X = np.random.default_rng(1).random((30, 12))
    pa, pb = a.predict_proba(X, None, 0), b.predict_proba(X, None, 0)
    np.testing.assert_allclose(pb[0], pa, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(pb.sum(axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(pb[0].argmax(axis=1), b.forward(X, None, "det")[0].argmax(axis=1))
    ea, eb = a.predict_proba(X, r1, 3), b.predict_proba(X, r2, 3)
    np.testing.assert_allclose(eb[0], ea, rtol=1e-12, atol=1e-15)


def test_kernel_selftest_catches_a_batch_axis_softmax(monkeypatch):
    """The once-per-process self-test of sbn_net refuses a softmax over the wrong axis (a planted error)."""
    monkeypatch.setattr(sn._kernel_selftest, "passed", False)
    monkeypatch.setattr(sn, "_softmax", lambda Z: np.exp(Z - Z.max(axis=1, keepdims=True))
                        / np.exp(Z - Z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))
    with pytest.raises(SelfCheckFailed, match="_softmax"):
        sn._kernel_selftest()


def test_stack_slices_do_not_interact():
    """Changing network 1's input changes neither network 0's logits nor its gradients (independent slices)."""
    rng = np.random.default_rng(3)
    net = sn.DeepSBNStack(rng, "logistic", 2, d=6, h=5, k=3, depth=1)
    X = rng.random((2, 7, 6))
    y = rng.integers(0, 3, (2, 7))
    out = []
    for X1 in (X, np.stack([X[0], X[1] * 3.0])):
        logits = net.forward(X1, np.random.default_rng(9), "train")
        out.append((logits[0].copy(), net.backward(sn.softmax_cross_entropy_stack(logits, y)[1])["W0"][0].copy()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_train_deep_sbn_seeds_is_reproducible_and_learns():
    X, y = np.random.default_rng(0).random((200, 6)), np.random.default_rng(1).integers(0, 2, 200)
    X[:, 0] += y  # a learnable signal
    runs = [sn.train_deep_sbn_seeds(X, y, "logistic", np.random.SeedSequence(4), 2, h=6, depth=1, epochs=25)
            for _ in range(2)]
    assert runs[0]["test_det"] == runs[1]["test_det"] and runs[0]["test_ens"] == runs[1]["test_ens"]
    assert runs[0]["test_index"].shape == (2, 40) and len(set(runs[0]["test_index"][0]) & set(runs[0]["test_index"][1])) < 40
    assert min(runs[0]["train_det"]) > 0.6


def test_fast_logistic_cdf_matches_the_noise_family():
    from stecheck.numerics.noise import get_noise

    a = np.concatenate([np.linspace(-400, 400, 2001), [-1e300, 1e300, 0.0]])
    np.testing.assert_allclose(sn._cdf(get_noise("logistic"), a), get_noise("logistic").cdf(a), rtol=4e-16 * 8, atol=0)


def test_adam_in_place_is_the_textbook_update():
    p = {"w": np.array([0.5, -1.0, 2.0])}
    ref = p["w"].copy()
    opt = sn.Adam(p, lr=0.1)
    m = v = np.zeros(3)
    for t, g in enumerate((np.array([0.3, -0.2, 1.0]), np.array([-0.1, 0.4, 0.5])), start=1):
        opt.step({"w": g})
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        ref = ref - 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        np.testing.assert_allclose(p["w"], ref, rtol=1e-14)


def test_map_tasks_in_process_keeps_item_order():
    assert sn.map_tasks(lambda a, b: a - b, [(3, 1), (1, 3), (5, 5)], key="t") == [2, -2, 0]


def _remote_map(items):
    return sn.map_tasks(divmod, items, key="test-divmod")


@pytest.mark.cluster
def test_map_tasks_inside_a_worker_submits_tasks_and_keeps_order():
    from stecheck.numerics.distributed import local_client

    items = [(17, 5), (9, 2), (100, 7), (1, 1)]
    with local_client(2) as client:
        assert client.submit(_remote_map, items, pure=False).result() == [divmod(*it) for it in items]


def test_autoencoder_arm_batch_is_the_estimators_arm():
    from stecheck.numerics import estimators
    from stecheck.numerics import sbn_autoencoder as sa

    rng = np.random.default_rng(0)
    Y = sa.load_corpus("topics")[:5]
    ae = sa.StochasticAutoencoder.init(rng, Y.shape[1], 7, 16)
    a, _ = ae.encode(Y)
    U = rng.random(a.shape)
    ref = np.stack([estimators.arm_estimates(ae.decoder_loss(Y[b]), a[b], "logistic", U[b:b + 1], encoding="01")[0]
                    for b in range(5)])
    np.testing.assert_allclose(ae.arm_batch(a, Y, U), ref, rtol=1e-12, atol=1e-12)
    X = (U < 0.5).astype(float)
    np.testing.assert_allclose(ae.batch_losses(X, Y), [ae.decoder_loss(Y[b]).value(X[b:b + 1])[0] for b in range(5)],
                               rtol=1e-13)


@pytest.mark.parametrize("n_train", [3 * 8, 3 * 8 - 1, 3 * 8 + 1])
def test_an_epoch_has_floor_n_over_batch_full_minibatches(monkeypatch, n_train):
    """train_deep_sbn: each epoch is floor(n / batch) mini-batches of exactly `batch` rows (the last partial batch is
    dropped): n = 3 batch, 3 batch - 1 (where a start bound one too large would add a batch of batch - 1 rows) and
    3 batch + 1 (one row left over)."""
    batch, epochs = 8, 2
    rng = np.random.default_rng(3)
    data = sn.DigitsData(rng.random((n_train, 5)), rng.integers(0, 3, n_train), rng.random((4, 5)),
                         rng.integers(0, 3, 4))
    sizes = []
    real = sn.softmax_cross_entropy

    def counting(logits, y):
        sizes.append(len(y))
        return real(logits, y)

    monkeypatch.setattr(sn, "softmax_cross_entropy", counting)
    sn.train_deep_sbn(data, "logistic", np.random.SeedSequence(0), h=4, depth=1, epochs=epochs, batch=batch,
                      ensemble=1)
    assert sizes == [batch] * (epochs * (n_train // batch))


@pytest.mark.parametrize("n", [20, 21, 19])
def test_a_seed_stack_epoch_has_floor_n_train_over_batch_full_minibatches(monkeypatch, n):
    """train_deep_sbn_seeds: the same boundary for the batched seeds (n_train = n - round(0.2 n) = 16, 17, 15 rows,
    batch 4: 4, 4 and 3 mini-batches of exactly 4 rows per epoch)."""
    batch, epochs = 4, 2
    rng = np.random.default_rng(5)
    X, y = rng.random((n, 3)), rng.integers(0, 2, n)
    sizes = []
    real = sn.softmax_cross_entropy_stack

    def counting(logits, labels):
        sizes.append(labels.shape[1])
        return real(logits, labels)

    monkeypatch.setattr(sn, "softmax_cross_entropy_stack", counting)
    out = sn.train_deep_sbn_seeds(X, y, "logistic", np.random.SeedSequence(1), 2, h=3, depth=1, epochs=epochs,
                                  batch=batch, ensemble=1)
    assert sizes == [batch] * (epochs * (out["n_train"] // batch))


def test_tost_needs_exactly_two_values_per_group_at_least():
    """The guard's limit is 2 per group (the smallest size with a sample variance): 2 and 2 gives finite p-values,
    1 in either group is one InvalidArgument naming the sizes."""
    two = sn.tost_ind([0.90, 0.92], [0.91, 0.93], 0.05)
    assert 0.0 <= two["p_low"] <= 1.0 and 0.0 <= two["p_high"] <= 1.0 and two["p"] < 1.0
    for x, y, sizes in (([0.9], [0.91, 0.93], "got 1 and 2"), ([0.9, 0.92], [0.91], "got 2 and 1")):
        with pytest.raises(InvalidArgument, match=f"TOST needs >= 2 values per group, {sizes}"):
            sn.tost_ind(x, y, 0.05)


def _plain_deep_sbn_step(p, X, y, rng, depth, eps=1e-5):
    """One training step of DeepSBN (logistic noise, +-1 states) written from the formulas with fresh float64 arrays
    and float64 products: no work arrays, no float32 products, no in-place tricks.  Returns logits and gradients."""
    B = X.shape[0]
    h, hs, ws, saved = X, [], [], []
    for j in range(depth + 1):
        if j == 0:
            W = p["W0"]
        else:
            pw = 1.0 / (1.0 + np.exp(p[f"eta{j}"] * -2.0))
            W = np.copysign(1.0, pw - rng.random(pw.shape))
        hs.append(h)
        ws.append(W)
        pre = h @ W.T
        xc = pre - pre.mean(axis=0)
        inv = 1.0 / np.sqrt(np.einsum("ij,ij->j", xc, xc) / B + eps)
        a = xc * (p[f"gamma{j}"] * inv) + p[f"beta{j}"]
        prob = 1.0 / (1.0 + np.exp(a * -2.0))
        h = np.copysign(1.0, prob - rng.random(prob.shape))
        saved.append((xc, inv, prob))
    logits = h @ p["Wout"].T + p["bout"]
    _, g = sn.softmax_cross_entropy(logits, y)
    grads = {"Wout": g.T @ h, "bout": g.sum(axis=0)}
    g = g @ p["Wout"]
    for j in range(depth, -1, -1):
        xc, inv, prob = saved[j]
        q = (1.0 - prob) * prob * g
        dbeta, dgamma = q.sum(axis=0), np.einsum("ij,ij->j", q, xc) * inv
        grads[f"gamma{j}"], grads[f"beta{j}"] = 4.0 * dgamma, 4.0 * dbeta
        g_pre = ((q - xc * (dgamma * inv / B)) - dbeta / B) * ((4.0 * inv) * p[f"gamma{j}"])
        grads["W0" if j == 0 else f"eta{j}"] = g_pre.T @ hs[j]
        if j:
            g = g_pre @ ws[j]
    return logits, grads


def test_the_optimised_deep_sbn_step_is_bitwise_the_plain_formulas():
    """DeepSBN's training step (persistent work arrays, exact float32 +-1 products read by BatchNorm as float64,
    copysign sampling, the ST constant folded into the BN backward) gives bit for bit the logits and gradients of
    the plain formulas, on the same random stream, for three consecutive steps with Adam in between."""
    depth = 2
    rng = np.random.default_rng(11)
    net = sn.DeepSBN(rng, "logistic", d=9, h=33, k=4, depth=depth)
    opt = sn.Adam(net.params, lr=1e-2)
    X, y = rng.random((40, 9)), rng.integers(0, 4, 40)
    r_net, r_ref = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(3):
        ref_params = {k: v.copy() for k, v in net.params.items()}
        logits_ref, grads_ref = _plain_deep_sbn_step(ref_params, X, y, r_ref, depth)
        logits = net.forward(X, r_net, "train")
        np.testing.assert_array_equal(logits, logits_ref)
        grads = net.backward(sn.softmax_cross_entropy(logits, y)[1])
        assert set(grads) == set(grads_ref)
        for k in grads:
            np.testing.assert_array_equal(grads[k], grads_ref[k], err_msg=k)
        opt.step(grads)


def test_batchnorm_running_statistics_are_the_exponential_averages():
    # equivalence-list entries (never read by a claim): the running statistics must still be right for DeepSBN's
    # 'det' / 'sample' modes: r <- (1 - momentum) r + momentum * batch statistic (biased variance), per step
    import numpy as np

    from stecheck.numerics.sbn_net import BatchNorm

    rng = np.random.default_rng(3)
    bn = BatchNorm(5, momentum=0.1)
    rm, rv = np.zeros(5), np.ones(5)
    for _ in range(3):
        x = rng.normal(2.0, 3.0, size=(40, 5))
        bn.forward(x)
        rm = 0.9 * rm + 0.1 * x.mean(axis=0)
        rv = 0.9 * rv + 0.1 * x.var(axis=0)
    np.testing.assert_allclose(bn.running_mean, rm, rtol=1e-13)
    np.testing.assert_allclose(bn.running_var, rv, rtol=1e-13)


def test_the_sign_bit_sampling_is_bitwise_copysign_on_every_kind_of_float():
    """_unit_with_sign_of (two integer passes on the bits) equals np.copysign(1.0, x) bit for bit: signed zeros,
    subnormals, infinities and nans of either sign, ordinary values; a non-contiguous view takes numpy's copysign."""
    tiny = np.nextafter(0.0, 1.0)
    x = np.array([0.0, -0.0, tiny, -tiny, 1.0, -1.0, 0.3, -2.5e300, np.inf, -np.inf, np.nan, -np.nan, 1e-310])
    x = np.concatenate([x, np.random.default_rng(0).standard_normal(1000)])
    ref = np.copysign(1.0, x)
    got = sn._unit_with_sign_of(x.copy())
    np.testing.assert_array_equal(got.view(np.int64), ref.view(np.int64))
    strided = np.repeat(x, 2)[::2]
    assert not strided.flags.c_contiguous
    np.testing.assert_array_equal(sn._unit_with_sign_of(strided).view(np.int64), ref.view(np.int64))


def test_network_selftest_passes_and_catches_a_wrong_running_mean(monkeypatch):
    """The network part of the self-test passes on the tree and refuses a running mean updated with the wrong sign
    (a planted error in the code the claims never read: BatchNorm's evaluation statistics)."""
    assert sn._network_selftest_failures() == []
    forward = sn.BatchNorm.forward

    def wrong(self, x, training=True):
        before = self.running_mean.copy()
        out = forward(self, x, training)
        if training and not np.iscomplexobj(x):
            self.running_mean = 2 * (1 - self.momentum) * before - self.running_mean
        return out

    monkeypatch.setattr(sn.BatchNorm, "forward", wrong)
    assert any("BatchNorm(momentum=" in b for b in sn._network_selftest_failures())


def test_depth_zero_networks_build_and_train():
    """depth = 0 (no hidden Bernoulli layer) is a valid network (as_int minimum 0): it builds, trains a step and
    its clip helper leaves an unbounded noise alone."""
    rng = np.random.default_rng(0)
    for net in (sn.DeepSBN(rng, "logistic", d=4, h=3, k=2, depth=0), sn.DeepSBNStack(rng, "logistic", 2, d=4, h=3, k=2,
                                                                                       depth=0)):
        assert net.depth == 0 and net.clip is None
        X = rng.random((5, 4))
        logits = net.forward(X, rng, "train")
        assert np.all(np.isfinite(logits))
        net.project()


@pytest.mark.parametrize("change, what", [
    (lambda self: setattr(self, "bn_eps", 2e-5), "eps doubled"),
    (lambda self: self.params.__setitem__("bout", np.zeros((2, 2))), "an output bias of 2 slices"),
    (lambda self: self.params.__setitem__("gamma0", np.full((1, 2), 1.5)), "gamma = 1.5"),
])
def test_network_selftest_checks_the_stack_forward_output(monkeypatch, change, what):
    """Session 13: the stub DeepSBNStack's forward output and normalized pre-activations are compared with the exact
    (x - mean) / sqrt(var + 1e-5) and the seed's states; before, only its running statistics were read."""
    real = sn.DeepSBNStack.forward

    def wrong(self, X, rng, mode="train"):
        change(self)
        return real(self, X, rng, mode)

    monkeypatch.setattr(sn.DeepSBNStack, "forward", wrong)
    assert any("DeepSBNStack(momentum=" in b and ".forward of" in b for b in sn._network_selftest_failures()), what


def test_reference_gradient_takes_the_arm_sample_count_from_its_caller():
    """Session 13: the unused default arm_samples = 1000 is gone (SBN-BITS passes its own count)."""
    import inspect

    from stecheck.numerics import sbn_autoencoder as sa

    assert inspect.signature(sa.reference_gradient).parameters["arm_samples"].default is inspect.Parameter.empty


@pytest.mark.parametrize("wrong", [
    lambda got, want: not abs(got - want) <= 2e-12 * max(abs(want), 1.0),    # tolerance doubled
    lambda got, want: not abs(got - want) < 1e-12 * max(abs(want), 1.0),     # the end excluded
    lambda got, want: not abs(got - want) <= 1e-12,                          # absolute only
    lambda got, want: -(not abs(got - want) <= 1e-12 * max(abs(want), 1.0)),  # not a bool
])
def test_autoencoder_selftest_comparison_has_negative_controls(monkeypatch, wrong):
    """Session 13: the comparison of the autoencoder's known-answer self-test is itself checked on controls."""
    from stecheck.numerics import sbn_autoencoder as sa

    assert sa._loss_selftest_failures() == []
    monkeypatch.setattr(sa, "_off", wrong)
    assert any("comparison off(got, want)" in b for b in sa._loss_selftest_failures())


@pytest.mark.parametrize("tol, scale_floor", [(2, 1), (1, 2)])
def test_network_selftest_comparison_has_negative_controls(monkeypatch, tol, scale_floor):
    """Session 13: close() of the network self-test refuses 1e-15 relative deviations past its tolerance (controls)."""
    from fractions import Fraction

    def wrong(got, want):
        return len(got) == len(want) and all(
            abs(Fraction(float(g)) - w) <= Fraction(tol, 10 ** 15) * max(abs(w), scale_floor) for g, w in zip(got, want))

    monkeypatch.setattr(sn, "_close_exact", wrong)
    assert any("comparison close(got, want)" in b for b in sn._network_selftest_failures())


@pytest.mark.parametrize("name, wrong", [
    ("_softmax_close", lambda got, want: np.shape(got) == np.shape(want)
     and bool(np.all(np.abs(np.asarray(got) - want) <= 1e-15 + 2e-13 * np.asarray(want)))),
    ("_softmax_close", lambda got, want: bool(np.all(np.abs(np.asarray(got) - np.asarray(want)[:len(got)]) <= 1e-15
                                                     + 1e-13 * np.asarray(want)[:len(got)]))),
    ("_matmul_error_ok", lambda err: err <= 2e-15),
    ("_proba_close", lambda got, want: len(got) == 3 and bool(np.all(np.abs(np.asarray(got) - want) <= 2e-15))),
    ("_forward_close", lambda got, want: bool(np.all(np.abs(np.asarray(got) - np.asarray(want)[:len(got)]) <= 1e-13))),
    ("_forward_close", lambda got, want: np.shape(got) == np.shape(want)
     and bool(np.all(np.abs(np.asarray(got) - want) <= 2e-13))),
])
def test_kernel_selftest_comparisons_have_negative_controls(monkeypatch, name, wrong):
    """Session 13: the softmax, matmul and predict_proba comparisons of the kernel self-test run on controls
    first; a looser comparison (tolerance doubled, shapes unchecked) is reported."""
    assert sn._comparison_control_failures() == []
    monkeypatch.setattr(sn, name, wrong)
    assert any(name in b for b in sn._comparison_control_failures())


def test_tost_with_an_undefined_t_statistic_counts_it_as_p_one():
    """Zero variance in both groups and a shifted difference of exactly 0 (diff = -margin) leave Welch's t = 0/0
    undefined (scipy: nan): that one-sided p-value counts as 1 (no evidence), the other is the exact 0 of t = -inf."""
    out = sn.tost_ind([0.5, 0.5], [0.75, 0.75], 0.25)
    assert out["p_low"] == 1.0 and out["p_high"] == 0.0 and out["p"] == 1.0 and out["diff"] == -0.25


def test_adam_refuses_a_zero_or_negative_learning_rate():
    p = {"w": np.zeros(3)}
    with pytest.raises(InvalidArgument, match="Adam: lr="):
        sn.Adam(p, lr=0.0)
    with pytest.raises(InvalidArgument, match="Adam: lr="):
        sn.Adam(p, lr=-0.1)
    assert sn.Adam(p, lr=1e-300).lr == 1e-300


def test_work_buffers_follow_the_requested_shape_and_are_reused_when_it_matches():
    store = {}
    a = sn._buffer_of(store, "k", (3, 4), np.float64)
    assert a.shape == (3, 4) and sn._buffer_of(store, "k", (3, 4), np.float64) is a
    b = sn._buffer_of(store, "k", (2, 5), np.float64)
    assert b.shape == (2, 5) and b is not a
    c = sn._buffer_of(store, "k", (2, 5), np.float32)
    assert c.dtype == np.float32 and c.shape == (2, 5)
    assert sn._buffer(None, "k", a) is None


def test_stack_defaults_are_the_deep_sbn_defaults():
    """DeepSBNStack is S DeepSBNs: the same default widths, depth and BN constants."""
    import inspect
    one = {k: v.default for k, v in inspect.signature(sn.DeepSBN.__init__).parameters.items()
           if v.default is not inspect.Parameter.empty}
    stack = {k: v.default for k, v in inspect.signature(sn.DeepSBNStack.__init__).parameters.items()
             if v.default is not inspect.Parameter.empty}
    assert {k: stack[k] for k in one} == one and one["d"] == 64 and one["h"] == 64 and one["k"] == 10


def test_deterministic_weights_break_a_tie_to_plus_one_as_deep_sbn_does():
    """sign(0) = +1 in 'det' mode (BernoulliWeights.mode, DeepSBN): a latent eta exactly 0 gives weight +1 in the
    stack too, so the deterministic logits of a stack of one equal DeepSBN's."""
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    a = sn.DeepSBN(r1, "logistic", d=6, h=5, k=3, depth=1)
    b = sn.DeepSBNStack(r2, "logistic", 1, d=6, h=5, k=3, depth=1)
    a.params["eta1"][:, ::2] = 0.0
    b.params["eta1"][0][:, ::2] = 0.0
    X = np.random.default_rng(1).random((7, 6))
    np.testing.assert_allclose(b.forward(X[None], None, "det")[0], a.forward(X, None, "det"), rtol=1e-12, atol=1e-12)
    assert np.all(sn.BernoulliWeights(np.zeros(3)).mode() == 1.0)
    # the tie matters: with weight -1 at the ties the logits differ
    flipped = sn.DeepSBN(np.random.default_rng(5), "logistic", d=6, h=5, k=3, depth=1)
    flipped.params["eta1"][:, ::2] = -1e-300
    assert not np.allclose(flipped.forward(X, None, "det"), a.forward(X, None, "det"), rtol=1e-12, atol=1e-12)


def test_topic_corpus_documents_have_at_least_one_word_and_zero_lengths_become_one():
    """Document lengths are max(Poisson(mean_length), 1): at mean 1 some draws are 0 and become exactly 1."""
    from stecheck.numerics import sbn_autoencoder as sa
    short = sa.topic_corpus(3, docs=300, vocab=20, topics=3, mean_length=1)
    lengths = short.sum(axis=1)
    assert lengths.min() == 1.0
    rng = np.random.default_rng(3)
    rng.dirichlet(np.full(20, 0.1), size=3)
    rng.dirichlet(np.full(3, 0.3), size=300)
    np.testing.assert_array_equal(lengths, np.maximum(rng.poisson(1, size=300), 1))
    # the claims' corpus (seed 0, mean 40): no document is near the floor, so the floor never acts there
    assert sa.topic_corpus().sum(axis=1).min() > 2
