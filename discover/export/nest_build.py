"""Build exported NESTML models into a NEST extension module, and simulate them in NEST.

    python -m discover.export.nest_build results/demo/export/nestml/*.nestml --out build/nest

then, in Python: ``import nest; nest.Install("discovermodule")`` with the printed folder on
LD_LIBRARY_PATH (or call `simulate`). NESTML generates C++ for NEST and compiles it against NEST's
headers; NEST's wheel (`pip install nest-simulator`) ships those headers and its kernel, but its
`nest-config` (what NESTML asks where they are) points at the folder the wheel was built in. So
`build` writes a `nest-config` for the installed package (its headers, the wheel's C++ ABI: built
with the old `_GLIBCXX_USE_CXX11_ABI=0`, and no kernel library to link: the module resolves NEST's
symbols from the already loaded kernel, which PyNEST loads with RTLD_GLOBAL). Building needs a C++
compiler, cmake, and the Boost, ltdl and GSL headers (Debian: libboost-dev libltdl-dev libgsl-dev;
`.ci/run` installs them). About 20 s per module on 2 cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .._errors import DiscoverError

MODULE = "discovermodule"

_CONFIG = """#!/bin/sh
# nest-config for the installed NEST wheel, written by discover.export.nest_build
case "$1" in
    --prefix) echo "{prefix}" ;;
    --includes) echo "-I{include}" ;;
    --cflags) echo "-fopenmp -O2 -std=c++20 -D_GLIBCXX_USE_CXX11_ABI=0" ;;
    --libs) echo "-fopenmp" ;;
    --compiler) echo "{compiler}" ;;
    --libdir) echo "lib" ;;
    --static-libraries) echo "OFF" ;;
    --version) echo "{version}" ;;
    *) exit 1 ;;
esac
"""


class NestBuildError(DiscoverError, RuntimeError):
    """NEST or a tool NESTML needs to build a module is missing, or the build failed."""


def missing() -> str | None:
    """Why a NEST module cannot be built here (what to install), or None when it can."""
    if importlib.util.find_spec("nest") is None or importlib.util.find_spec("pynestml") is None:
        return "NEST and NESTML are not installed: pip install nest-simulator nestml (pip install -e '.[dev]')"
    for tool in ("cmake", "make", "g++"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not on PATH: NESTML compiles the generated C++ with it (Debian: cmake, g++)"
    for header, package in (("boost/version.hpp", "libboost-dev"), ("ltdl.h", "libltdl-dev"),
                            ("gsl/gsl_errno.h", "libgsl-dev")):
        if not any((Path(root) / header).is_file() for root in ("/usr/include", "/usr/local/include")):
            return f"{header} is missing: NEST's headers include it (Debian: apt-get install {package})"
    return None


def _package() -> Path:
    spec = importlib.util.find_spec("nest")
    if spec is None or spec.origin is None:
        raise NestBuildError("NEST is not installed: pip install nest-simulator (pip install -e '.[dev]').")
    return Path(spec.origin).parent


def write_nest_config(folder: Path) -> Path:
    """`folder`/bin/nest-config for the installed wheel; returns `folder` (NESTML's `nest_path`)."""
    package = _package()
    include = package / "include" / "nest"
    if not include.is_dir():
        raise NestBuildError(f"NEST's headers are not at {include}: this NEST install cannot build modules.")
    from importlib.metadata import version

    script = folder / "bin" / "nest-config"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(_CONFIG.format(prefix=package, include=include, compiler=shutil.which("g++") or "g++",
                                     version=version("nest-simulator")))
    script.chmod(0o755)
    return folder


def build(paths: Sequence[str | Path], out: str | Path, *, module: str = MODULE) -> Path:
    """Generate and compile the NESTML files `paths` into one NEST module; returns the folder
    holding `<module>.so` (put it on LD_LIBRARY_PATH, then `nest.Install(module)`)."""
    out = Path(out).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise NestBuildError(f"`out` ({out}) holds files; give an empty or new folder (nothing is overwritten).")
    if not module.isidentifier():
        raise NestBuildError(f"`module` ({module!r}) must be a name NEST can install: letters, digits and _, "
                             "e.g. 'discovermodule'.")
    files = [Path(p).resolve() for p in paths]
    absent = [str(p) for p in files if not p.is_file()]
    if absent:
        raise NestBuildError(f"no such NESTML file: {', '.join(absent)}; give the .nestml files `discover export` "
                             "wrote.")
    names = [f.name for f in files]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # one module holds one model per name: the second file would silently replace the first
        raise NestBuildError(f"two NESTML files named {', '.join(twice)}; a module holds one model per name: "
                             "build them into separate modules (`module=`), or rename one model.")
    why = missing()
    if why:
        raise NestBuildError(why)
    source = out / "nestml"
    source.mkdir(parents=True)
    for f in files:
        shutil.copy(f, source / f.name)
    # a child process: PyNEST prints its banner and changes the interpreter's dlopen flags on import
    code = ("import odetoolbox, sys\n"
            "odetoolbox.PLOT_DEPENDENCY_GRAPH = False  # its dependency graph needs Graphviz's `dot`; nobody reads it\n"
            "from pynestml.frontend.pynestml_frontend import generate_nest_target\n"
            "generate_nest_target(input_path=sys.argv[1], target_path=sys.argv[2], install_path=sys.argv[3],\n"
            "                     module_name=sys.argv[4], logging_level='ERROR',\n"
            "                     codegen_opts={'nest_path': sys.argv[5]})\n")
    install = out / "install"
    done = subprocess.run([sys.executable, "-c", code, str(source), str(out / "target"), str(install), module,
                           str(write_nest_config(out / "nest"))], capture_output=True, text=True, timeout=1200)
    if done.returncode != 0 or not (install / f"{module}.so").is_file():
        raise NestBuildError(f"NESTML could not build the module (exit {done.returncode}):\n"
                             + (done.stdout[-3000:] + done.stderr[-3000:]).strip())
    return install


_RUN = """
import json, sys
import numpy as np
import nest
spec = json.loads(sys.argv[1])
nest.set_verbosity("M_ERROR")
nest.Install(spec["module"])
nest.resolution = spec["resolution"]
neuron = nest.Create(spec["model"], params=spec["params"])
recorder = nest.Create("spike_recorder")
meter = nest.Create("multimeter", params={"record_from": spec["record"], "interval": spec["resolution"]})
nest.Connect(neuron, recorder)
nest.Connect(meter, neuron)
nest.Simulate(spec["duration"])
events = meter.get("events")
np.savez(spec["out"], t=np.asarray(events["times"]), spikes=np.asarray(recorder.get("events")["times"]),
         **{name: np.asarray(events[name]) for name in spec["record"]})
"""


def simulate(install: str | Path, model: str, record: Sequence[str], duration: float, *, out: str | Path,
             params: Mapping[str, float] | None = None, resolution: float = 0.01, module: str = MODULE
             ) -> dict[str, object]:
    """Run `model` (the NESTML model's name, e.g. "fitzhugh_nagumo_neuron") of a built module for
    `duration` ms in a fresh NEST process; returns {"t": times, "spikes": spike times, state: trace
    for each name in `record`} (NEST's names: a state NESTML reserves, like V, ends in "_")."""
    import numpy as np

    target = Path(out).resolve()
    spec = {"module": module, "model": model, "record": list(record), "duration": float(duration),
            "resolution": float(resolution), "params": dict(params or {}), "out": str(target)}
    env = {**os.environ, "LD_LIBRARY_PATH": os.pathsep.join(filter(None, [str(Path(install).resolve()),
                                                                        os.environ.get("LD_LIBRARY_PATH")]))}
    done = subprocess.run([sys.executable, "-c", _RUN, json.dumps(spec)], capture_output=True, text=True,
                          timeout=600, env=env)
    if done.returncode != 0:
        raise NestBuildError(f"NEST could not run {model} (exit {done.returncode}):\n{done.stderr[-3000:]}")
    with np.load(target) as f:
        return {name: f[name] for name in f.files}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m discover.export.nest_build",
                                     description="Build exported NESTML models into one NEST module.")
    parser.add_argument("paths", nargs="+", help=".nestml files (from `discover export DIR --to nestml`)")
    parser.add_argument("--out", required=True, help="a new or empty folder for the build")
    parser.add_argument("--module", default=MODULE, help="module name (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        install = build(args.paths, args.out, module=args.module)
    except NestBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Built {install / (args.module + '.so')}. In Python, with LD_LIBRARY_PATH={install}:\n"
          f"    import nest; nest.Install({args.module!r}); nest.Create(<model name>_neuron)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
