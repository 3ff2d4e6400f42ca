"""The claim registry: every claim, registered explicitly, looked up by stable id.

Claims are defined in ``proofs_check/claims/`` and registered by
:func:`default_registry`, which imports those modules in a fixed order (no
import-time side effects elsewhere, duplicate ids rejected).
"""

from __future__ import annotations

import difflib
import functools
import importlib
from collections.abc import Iterable, Iterator

from .claim import Claim
from stecheck.errors import InvalidArgument, UnknownClaim

__all__ = ["Registry", "default_registry", "CLAIM_MODULES"]

#: Modules that define claims; each exposes ``CLAIMS: tuple[Claim, ...]``.
CLAIM_MODULES = (
    "stecheck.proofs_check.claims.sbn_invariance",
    "stecheck.proofs_check.claims.sbn_bias",
    "stecheck.proofs_check.claims.sbn_gumbel",
    "stecheck.proofs_check.claims.sbn_latent",
    "stecheck.proofs_check.claims.sbn_proxies",
    "stecheck.proofs_check.claims.sbn_estimators",
    "stecheck.proofs_check.claims.sbn_rescaling",
    "stecheck.proofs_check.claims.sbn_ascent",
    "stecheck.proofs_check.claims.qste",
    "stecheck.proofs_check.claims.qste_dynamics",
    "stecheck.proofs_check.claims.sbn_training",
)


class Registry:
    """An ordered collection of claims keyed by id."""

    def __init__(self, claims: Iterable[Claim] = ()) -> None:
        self._claims: dict[str, Claim] = {}
        for claim in claims:
            self.register(claim)

    def register(self, claim: Claim) -> Claim:
        if not isinstance(claim, Claim):
            raise InvalidArgument(f"only Claim objects can be registered, got {type(claim).__name__}")
        if claim.id in self._claims:
            raise InvalidArgument(f"claim id {claim.id!r} is registered twice; ids must be unique")
        self._claims[claim.id] = claim
        return claim

    def __iter__(self) -> Iterator[Claim]:
        return iter(self._claims.values())

    def __len__(self) -> int:
        return len(self._claims)

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self._claims

    def ids(self) -> list[str]:
        return list(self._claims)

    def get(self, claim_id: str) -> Claim:
        """The claim with this id; an unknown id raises :class:`UnknownClaim` with close matches."""
        key = claim_id.strip().upper()
        if key in self._claims:
            return self._claims[key]
        close = difflib.get_close_matches(key, self._claims, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "run `stecheck list` to see all ids"
        raise UnknownClaim(f"unknown claim id {claim_id!r}; {hint}")

    def select(self, claim_ids: Iterable[str] = ()) -> list[Claim]:
        """The claims named (in the order given, duplicates dropped), or all claims if none are named."""
        claim_ids = list(claim_ids)
        if not claim_ids:
            return list(self)
        out: list[Claim] = []
        for cid in claim_ids:
            claim = self.get(cid)
            if claim not in out:
                out.append(claim)
        return out


@functools.lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The registry of all claims that ship with stecheck."""
    registry = Registry()
    for name in CLAIM_MODULES:
        module = importlib.import_module(name)
        for claim in module.CLAIMS:
            registry.register(claim)
    return registry
