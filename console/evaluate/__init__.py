"""`edgedesk evaluate`: the built-in world run fast in process, models scored and strategies traded.

- `run`: the loop (world steps, model refreshes, kernels, checkpoints) and `EvalParams` / `Evaluation`
- `published`: what the world's data routes serve, read in process
- `fairs`: fair values from that data (the evaluator's model runner)
- `desks` / `venue`: one real Kernel per strategy on its own account, its actions run on the Exchange
- `scoring`: model vs market Brier, against the truth and against outcomes, clustered by event
- `pnl`: equity at the truth, maximum drawdown, the 95% interval
- `report`: text and JSON; `command`: the CLI subcommand

docs/evaluate.md describes the method. This package is a launcher: it imports the simulator
(console.sim), which the desk's own modules never do; the truth stays on this side.
"""
