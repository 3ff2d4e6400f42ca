"""The finding texts of QSTE-ERG and QSTE-NONGAUSS say what the evidence shows: the fitted exponent's range and the
local slopes (computed from the measured thresholds), and a Fisher p-value that underflowed is not printed as 0."""

import math
import re

from stecheck.proofs_check.claims import qste_dynamics as qd


def test_local_slopes_are_the_secant_slopes_of_log_m_star():
    assert qd._local_slopes([8, 16, 32], [64, 256, 2048]) == [2.0, 3.0]
    assert math.isclose(qd._local_slopes([8, 32], [10, 20])[0], 0.5)


def test_an_underflowed_p_value_is_a_bound_not_zero():
    assert qd._fmt_p(0.0) == "p < 1e-300"
    assert qd._fmt_p(3.14e-12) == "p = 3.1e-12"


def test_erg_loose_bound_finding_gives_the_local_slope_between_the_two_largest_n(run):
    m = next(m for c in run.claims if c.claim_id == "QSTE-ERG" for m in c.methods if m.name == "threshold-exponent")
    fits = m.evidence["configs"][0]["fits"]
    loose = [f.text for f in m.discrepancies if "loose" in f.text]
    assert loose
    for text in loose:
        assert "describes only the measured range" in text
        level = re.search(r"at success level ([0-9.]+)", text).group(1)
        fit = fits[level]
        last = qd._local_slopes(fit["n"], fit["m_star"])[-1]
        assert f"{last:.2f} between the two largest n = {fit['n'][-2]} and {fit['n'][-1]}" in text
