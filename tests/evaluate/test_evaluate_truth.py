"""The truth stays with the evaluator: the kernels only ever handle venue messages and fair values, the
world serves no truth, and the models' fair values do not change when the hidden probabilities do."""

from __future__ import annotations

import pytest

from console.config import load_config
from console.evaluate import desks as desks_module
from console.evaluate.fairs import InProcessModels
from console.evaluate.published import serve
from console.evaluate.run import START_MS, EvalParams, evaluate
from console.sim.clock import SimClock
from console.sim.exchange import Exchange
from console.sim.world import data as routes
from console.sim.world.world import World

HOUR_MS = 3_600_000


def _world(seed: int = 7) -> World:
    clock = SimClock(speed=1e-6, start_ms=START_MS)
    return World(Exchange(clock, seed=seed), clock, seed, reveal_truth=False, step_ms=300_000)


def test_kernels_never_handle_anything_from_the_simulator(monkeypatch) -> None:
    seen: dict[str, set[str]] = {}

    class TappedKernel(desks_module.Kernel):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            mine = seen.setdefault(kwargs["session"], set())
            self.tap = lambda _now, _mono, item: mine.add(f"{type(item).__module__}.{type(item).__name__}")

    monkeypatch.setattr(desks_module, "Kernel", TappedKernel)
    result = evaluate(EvalParams(seed=7, days=0.1, step_s=300), load_config("config.toml"))
    assert result.strategies and seen, "no kernel ran"
    for session, kinds in seen.items():
        assert "console.engine.fair.FairValues" in kinds, f"{session} never received fair values"
        assert any(k.endswith("BookSnapshot") for k in kinds), f"{session} never received a book"
        leaked = sorted(k for k in kinds if k.startswith("console.sim"))
        assert not leaked, f"{session} handled simulator objects: {leaked}"


def test_the_world_serves_no_truth_to_the_desk_side() -> None:
    world = _world()
    with pytest.raises(RuntimeError, match="404"):
        serve(world, routes.truth)


def test_fair_values_do_not_read_the_hidden_probabilities() -> None:
    world = _world()
    world.step_until(START_MS + 6 * HOUR_MS)
    config = load_config("config.toml")
    before = InProcessModels(config).refresh(world, world.clock.now_ms())
    assert {v.model for v in before.values} >= {"polls", "weather", "cpi", "control"}
    for hidden in (world.truth_p, world.crowd_p, world.informed_p):
        for ticker in hidden:
            hidden[ticker] = 0.5  # nonsense: a model that peeked would change its numbers
    after = InProcessModels(config).refresh(world, world.clock.now_ms())
    assert [(v.ticker, v.prob_yes) for v in after.values] == [(v.ticker, v.prob_yes) for v in before.values]
