"""Which model answers a search when CLIP_MODEL names one the library is not indexed with yet.

Changing CLIP_MODEL (or upgrading to a new default) must not leave an indexed library unsearchable
while the new model indexes it: the model with the most vectors keeps serving until the configured
one has caught up, and the answer says so.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.i18n import N_


@dataclass(frozen=True)
class ServingModel:
    name: str
    """The model text and image searches use when none is named."""
    configured: str
    """CLIP_MODEL (its registry name)."""
    indexed: int
    """Photos with a vector of `name`."""
    configured_indexed: int

    @property
    def catching_up(self) -> bool:
        return self.name != self.configured

    @property
    def note(self) -> str | None:
        """One sentence for answers and Admin while another model stands in for CLIP_MODEL."""
        if not self.catching_up:
            return None
        return N_("searching with {model} until the library is indexed with CLIP_MODEL={configured} "
                  "({done} of {total} photos so far; photoindex index)", model=self.name, configured=self.configured,
                  done=self.configured_indexed, total=self.indexed)


def choose_serving(configured: str, counts: Mapping[str, int], has_weights: Callable[[str], bool]) -> ServingModel:
    """The configured model once it has at least as many vectors as any other model that can
    encode queries; until then the one with the most (ties: registry order)."""
    own = counts.get(configured, 0)
    ahead = [name for name, n in counts.items() if name != configured and n > own]
    for name in sorted(ahead, key=lambda m: -counts[m]):
        if has_weights(name):
            return ServingModel(name, configured, counts[name], own)
    return ServingModel(configured, configured, own, own)
