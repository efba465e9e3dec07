"""No prior model: discover FitzHugh–Nagumo's whole right-hand side knowing only the state names.

Reads examples/no_prior.toml (the same run as `discover run examples/no_prior.toml`): every state
gets a residual of (v, w) and nothing else is known. Route "auto" fits a neural ODE and distils it
(the UDE route) and also distils the data's smoothed derivatives (the direct route), then keeps the
model that re-simulates the held-out end and the whole of each training trajectory better.
The truth: dv/dt = v - v³/3 - w + 0.5, dw/dt = 0.08 v - 0.064 w + 0.056.

Run: python examples/no_prior.py          (about 5 minutes on a laptop CPU; results in results/no_prior/)
     python examples/no_prior.py --fast   (less data, fewer iterations, a smaller search: what CI runs)
"""

import argparse
import sys
from pathlib import Path

from discover import config_from_dict, discover, write_results

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

parser = argparse.ArgumentParser(description="Discover FitzHugh–Nagumo with nothing known.")
parser.add_argument("--fast", action="store_true", help="less data, fewer iterations, a smaller search")
parser.add_argument("--out", default="results/no_prior", help="results folder (default: %(default)s)")
parser.add_argument("--force", action="store_true", help="replace the results folder if it holds files")
args = parser.parse_args()

config_file = Path(__file__).with_name("no_prior.toml")
raw = tomllib.loads(config_file.read_text())
if args.fast:
    raw["data"].update(n_train=2, duration=40.0)
    raw["training"]["iterations"] = 100
    raw["distill"]["symbolic"]["max_evaluations"] = 10_000
config = config_from_dict(raw, base_dir=config_file.parent)

system, train, heldout = config.prepare()
print(system, "\n")
result = discover(train, system, heldout, training=config.training, distill=config.distill, progress=not args.fast)

for name, route in result.routes["routes"].items():
    terms = "; ".join(f"d{s}/dt = {e}" for s, e in route["terms"].items())
    print(f"{name} route: score {route.get('score', float('nan')):.3g}, {terms}")
print(result.routes["why"], "\n")
print(result.discovered)
print("held-out R²:", {s: round(m["r2"], 4) for s, m in result.metrics["discovered"].items()})
print("results:", write_results(result, args.out, force=args.force))
