"""Check NESTML files with NESTML's own parser and semantic checks, without NEST or Graphviz.

    python -m discover.export.nestml_check results/demo/export/nestml/*.nestml

`nestml --input_path FILE` builds a NEST module, so it needs NEST (and Graphviz for the report of
`--target_platform NONE`). This runs only the front end: the parser, then NESTML's context
conditions (CoCos), which include the physical units of every equation. It prints NESTML's
errors and exits with 0 when every model passes, 1 otherwise.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path


def check(paths: Sequence[str]) -> dict[str, bool]:
    """Model name -> whether it parsed and passed NESTML's semantic checks (errors are printed)."""
    from pynestml.cocos.co_cos_manager import CoCosManager
    from pynestml.frontend import pynestml_frontend as frontend
    from pynestml.frontend.frontend_configuration import FrontendConfiguration
    from pynestml.utils.logger import Logger

    frontend.init_predefined()
    with tempfile.TemporaryDirectory(prefix="nestml-check-") as target:  # NESTML wants a target folder
        FrontendConfiguration.parse_config(["--input_path", *map(str, paths), "--target_platform", "NONE",
                                            "--target_path", target, "--logging_level", "ERROR"])
        models = frontend.get_parsed_models()
        for model in models:
            if not Logger.has_errors(model):
                CoCosManager.check_cocos(model)  # the semantic checks, units of every ODE included
        return {model.get_name(): not Logger.has_errors(model) for model in models}


def main(argv: Sequence[str] | None = None) -> int:
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths or any(p.startswith("-") for p in paths):
        print(f"usage: {__doc__.strip().splitlines()[2].strip()}", file=sys.stderr)
        return 2
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        print(f"no such file: {', '.join(missing)}; give the .nestml files `discover export` wrote.", file=sys.stderr)
        return 2
    try:
        results = check(paths)
    except ImportError:
        print("NESTML is not installed: pip install nestml (pip install -e '.[dev]' installs it).", file=sys.stderr)
        return 2
    if not results:
        print(f"no NESTML model parsed from {', '.join(paths)}; the errors above say why.", file=sys.stderr)
        return 1
    for name, ok in results.items():
        print(f"{name}: {'passes' if ok else 'FAILS'} NESTML's parser and semantic checks")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
