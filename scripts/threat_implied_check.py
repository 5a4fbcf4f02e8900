"""The implied-harm threats held out of training, through the guard: how far ``mix.threats_implied`` reaches.

    python scripts/threat_implied_check.py [ADAPTER.gguf ...] [--threads 2] [--counts-only]

The evaluation does not read :data:`srllm_guard.eval.threats.IMPLIED` (so that the figures of adapters trained
without them stay comparable); this reads their test side (``threats.items(side="test", implied=True)``: a person,
frame or consequence that training never saw) with their harmless lookalikes, through ``SRGuard.check`` as
``scripts/anecdote_check.py`` does, for an adapter trained with them and one trained without.
"""

from __future__ import annotations

from anecdote_check import check

from srllm_guard.eval import threats

_IMPLIED = {tid for tid, _ in threats.IMPLIED + threats.IMPLIED_IDIOMS}


def main(argv: list[str] | None = None) -> None:
    made = [i for i in threats.items(side="test", veiled=True, implied=True) if i.template in _IMPLIED]
    check([i.text for i in made if i.biased], [i.text for i in made if not i.biased], argv,
          description=__doc__.splitlines()[0])


if __name__ == "__main__":
    main()
