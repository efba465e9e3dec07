"""Fit a universal differential equation: known dynamics + MLP residuals, trained on trajectory windows."""

from __future__ import annotations

import copy
import hashlib
import time
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import numpy as np
import torch
from scipy.signal import savgol_filter
from torch import nn

from .._errors import DataError, FitError
from .._progress import Progress, as_progress
from ..data import Trajectories
from ..equations import EquationSystem, compile_numpy
from ..integrate import (
    DEVICES,
    SOLVERS,
    STRIDES,
    Windows,
    choose_stride,
    integrate_windows,
    noise_level,
    resolve_device,
    torch_settings,
)
from ._checkpoint import load_checkpoint, save_checkpoint
from ._hidden import HiddenWindows, drive_hidden, fit_hidden_start, hidden_states
from ._hybrid import HybridODE, MLPResidual


class UDE:
    """A universal differential equation estimator (scikit-learn conventions).

    The model is `dy/dt = f_known(y, u) + R(features)`, where `system` marks the residuals with
    placeholders (`EquationSystem.with_residual`). Training has two phases:
    1. pre-fit each residual network to a Savitzky–Golay derivative estimate minus the known
       part (seconds; makes the second phase converge from a sensible start);
    2. multiple shooting: integrate many short windows (`window` steps) from observed points and
       match the observations, with Adam (cosine-decayed learning rate) then an L-BFGS polish.

    Hidden states: `data` may record only some of the system's states (in the system's order), e.g.
    the voltage alone. A state it does not record must have fully known dynamics (no residual; a
    network may still take it as a feature). Its trajectory is its known equation driven by the
    recorded states and inputs from a start learned per trajectory, so every window starts from a
    learned hidden value; `complete` does the same for new data from their first two windows.

    **Arguments:** `system`; `width`, `depth` of each MLP; `window` (steps per window),
    `batch_size` (windows per step), `iterations` (Adam steps), `learning_rate`,
    `lbfgs_iterations`, `prefit_iterations`; `solver` (one of `SOLVERS`), `substeps` per
    sample interval; `stride`: sample intervals per RK4 step in the Adam phase ("auto": the
    longest that keeps the integration error within half the data's noise s.d., measured on the
    pre-fitted model and again every 100 Adam steps; 1 with `substeps` > 1 or another solver; the
    L-BFGS polish always takes one step per sample, so a coarse stride never biases the final
    fit); `dtype` ("float32" or "float64"); `seed`; `threads` (torch threads; one per job is
    fastest for small networks); `device` ("cpu", the default; "cuda", a GPU; "auto", the GPU when
    torch sees one: training runs there, and the fitted model comes back to the CPU); `progress`
    (show a progress bar); `checkpoint`
    (a file: training state is saved there every `checkpoint_every` Adam steps, atomically,
    tensors only, read back with `weights_only=True`); `resume` (continue from `checkpoint` if
    it exists; a resumed run ends exactly where an uninterrupted one would).

    Divergence: a non-finite loss or gradient rolls the networks and optimiser back to the last
    good state (kept every 25 steps) and halves the learning rate; after `max_recoveries` such
    rollbacks training stops with a `FitError` naming the step.

    **Learned attributes:** `model_` (a `HybridODE`), `loss_history_` (pre-fit, Adam, then
    L-BFGS losses), `phases_` ((phase, index of its first loss) of each phase that ran), `fit_seconds_`,
    `constant_features_` (features that never varied in the data, so their effect is not
    identifiable), `recoveries_` (step and new learning rate of each rollback),
    `resumed_from_` (the Adam step a resumed run started at, or None), `stride_` (the stride
    used last) and `stride_error_` (its integration error when last checked, in noise s.d.s),
    `hidden_` (the states `data` did not record) and `completed_` (the training data with their
    learned trajectories; the data themselves when nothing is hidden).

    Saving: `save(path)` writes the networks and settings (a results folder holds them as
    `ude.pt`); `UDE.load(path)` rebuilds the fitted model to re-simulate or compare it later.
    A fitted UDE also pickles.
    """

    def __init__(
        self, system: EquationSystem, *, width: int = 32, depth: int = 2, window: int = 20,
        batch_size: int = 256, iterations: int = 600, learning_rate: float = 1e-2,
        lbfgs_iterations: int = 30, prefit_iterations: int = 300, solver: str = "rk4",
        substeps: int = 1, stride: int | str = "auto", dtype: str = "float32", seed: int = 0, threads: int = 1,
        progress: bool | Progress = True, device: str = "cpu",
        checkpoint: str | None = None, checkpoint_every: int = 100, resume: bool = False, max_recoveries: int = 3,
    ) -> None:
        self.system = system
        self.width, self.depth, self.window, self.batch_size = width, depth, window, batch_size
        self.iterations, self.learning_rate = iterations, learning_rate
        self.lbfgs_iterations, self.prefit_iterations = lbfgs_iterations, prefit_iterations
        self.solver, self.substeps, self.stride, self.dtype = solver, substeps, stride, dtype
        self.seed, self.threads, self.progress = seed, threads, progress
        self.checkpoint, self.checkpoint_every, self.resume = checkpoint, checkpoint_every, resume
        self.max_recoveries = max_recoveries
        self.device = device

    # Error checking: every setting, before any work, so a typo costs no training time
    _COUNTS = {"window": 1, "batch_size": 1, "substeps": 1, "width": 1, "depth": 1, "threads": 1, "iterations": 0,
               "lbfgs_iterations": 0, "prefit_iterations": 0, "seed": 0, "checkpoint_every": 1, "max_recoveries": 0}

    def _validate(self, data: Trajectories) -> torch.dtype:
        if not isinstance(self.system, EquationSystem):
            raise FitError(f"`system` must be an EquationSystem, got {type(self.system).__name__}.")
        if not isinstance(data, Trajectories):
            raise DataError(f"`data` must be Trajectories, got {type(data).__name__}; wrap arrays with "
                            "Trajectories(t, y).")
        if not self.system.residuals:
            raise FitError("`system` has no residual placeholder; add one with `system.with_residual('v')`.")
        if tuple(data.inputs) != self.system.inputs:
            raise DataError(
                f"data columns (states {list(data.states)}, inputs {list(data.inputs)}) do not match the system "
                f"(states {list(self.system.states)}, inputs {list(self.system.inputs)}); rename or reorder them."
            )
        self.check_settings()
        if self.window >= data.t.size:
            raise DataError(f"`window`={self.window} steps is not shorter than the data ({data.t.size} samples); "
                            "lower it.")
        return getattr(torch, self.dtype)

    def check_settings(self) -> None:
        """Check every setting that does not depend on the data (a config checks them before reading any)."""
        for name, low in self._COUNTS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise FitError(f"`{name}` must be an integer >= {low}, got {value!r}.")
        rate = self.learning_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < np.inf:
            raise FitError(f"`learning_rate` must be a positive number (e.g. 1e-2), got {rate!r}.")
        if self.solver not in SOLVERS:
            raise FitError(f"`solver`={self.solver!r} is not one of {list(SOLVERS)}.")
        self._validate_stride()
        if self.dtype not in ("float32", "float64"):
            raise FitError(f"`dtype` must be 'float32' or 'float64', got {self.dtype!r}.")
        if self.device not in DEVICES:  # the value only: a model trained on a GPU still loads without one
            resolve_device(self.device, "UDE")

    def _validate_stride(self) -> None:
        if self.stride == "auto":
            return
        if isinstance(self.stride, bool) or not isinstance(self.stride, (int, np.integer)) or self.stride < 1:
            raise FitError(f"`stride` must be 'auto' or an integer >= 1 (sample intervals per RK4 step), "
                           f"got {self.stride!r}.")
        if self.window % self.stride:
            raise FitError(f"`stride`={self.stride} must divide `window`={self.window}; use a divisor of the "
                           "window or 'auto'.")
        if self.stride > 1 and (self.substeps > 1 or self.solver != "rk4"):
            raise FitError(f"`stride`={self.stride} steps over samples, which needs solver 'rk4' and substeps 1 "
                           f"(got solver {self.solver!r}, substeps {self.substeps}); use stride 1 or 'auto'.")

    def fit(self, data: Trajectories) -> UDE:
        dtype = self._validate(data)
        device = resolve_device(self.device, "UDE")
        start = time.perf_counter()
        self.hidden_ = hidden_states(self.system, data)  # checks: recorded states in order, hidden ones known
        if self.hidden_ and device.type != "cpu":  # their learned starts live on the CPU
            if self.device != "auto":
                raise FitError(f"UDE `device`={self.device!r} with hidden states {list(self.hidden_)} is not "
                               "supported; use device='cpu' (or 'auto', which then trains on the CPU).")
            device = torch.device("cpu")
        fingerprint = self._fingerprint(data) if self.checkpoint else ""
        # hidden states: their known equations driven by the recorded states, from rest (then learned)
        full = drive_hidden(self.system, data, self.hidden_) if self.hidden_ else data
        with torch_settings(self.threads, dtype):
            torch.manual_seed(self.seed)
            rng = np.random.default_rng(self.seed)
            targets = self._residual_targets(full)  # derivative estimate minus the known part
            self.model_ = self._build(full, targets).to(device)
            state = self._resume_state(fingerprint)
            self.resumed_from_ = None if state is None else int(state["iteration"])
            self.loss_history_ = self._prefit(full, targets, device) if state is None else list(state["prefit"])
            self.loss_history_ += self._train(full, data, rng, state, fingerprint, device)
        self.model_.cpu()  # trained where asked; distilled, saved and re-simulated on the CPU
        self.fit_seconds_ = time.perf_counter() - start
        return self

    # Resume only the run that wrote the checkpoint: same system, data and training settings
    _NOT_IN_FINGERPRINT = ("checkpoint", "checkpoint_every", "resume", "progress")

    def _fingerprint(self, data: Trajectories) -> str:
        settings = {k: v for k, v in vars(self).items() if not k.endswith("_") and k not in self._NOT_IN_FINGERPRINT}
        settings["system"] = str(settings["system"])
        digest = hashlib.sha256(repr(sorted(settings.items())).encode())
        for array in (data.t, data.y, data.u):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
        return digest.hexdigest()

    def _resume_state(self, fingerprint: str) -> dict | None:
        if not (self.resume and self.checkpoint):
            return None
        state = load_checkpoint(self.checkpoint)
        if state is not None and state.get("fingerprint") != fingerprint:
            raise FitError(
                f"checkpoint {str(self.checkpoint)!r} was written by a run with a different model, data or "
                "training settings, so it cannot be resumed; restore that run's config, or start afresh "
                "(drop --resume / resume=False)."
            )
        return state

    # Initialise the networks from the data's ranges and a derivative estimate
    def _build(self, data: Trajectories, targets: dict[str, np.ndarray]) -> HybridODE:
        z = np.concatenate([data.y, data.u], axis=-1).reshape(-1, len(data.states) + len(data.inputs))
        columns = (*data.states, *data.inputs)
        nets, constant = [], []
        for state in self.system.residuals:
            idx = [columns.index(f) for f in self.system.residual_features(state)]
            mean, std = z[:, idx].mean(0), z[:, idx].std(0)
            flat = std <= 1e-12 * np.maximum(1.0, np.abs(mean))
            constant += [columns[i] for i, c in zip(idx, flat, strict=True) if c]
            std = np.where(flat, 1.0, std)
            nets.append(MLPResidual(mean, std, float(targets[state].std()) + 1e-8, self.width, self.depth))
        self.constant_features_ = tuple(sorted(set(constant)))
        return HybridODE(self.system, nets)

    def _residual_targets(self, data: Trajectories) -> dict[str, np.ndarray]:
        length = min(7, data.t.size - (data.t.size + 1) % 2)
        dydt = savgol_filter(data.y, window_length=length, polyorder=min(3, length - 1), deriv=1, delta=data.dt, axis=1)
        known = compile_numpy(self.system.without_residuals())(data.y, data.u)
        return {s: (dydt - known)[..., self.system.state_index(s)].ravel() for s in self.system.residuals}

    def _prefit(self, data: Trajectories, targets: dict[str, np.ndarray], device: torch.device | str = "cpu",
                ) -> list[float]:
        if self.prefit_iterations <= 0:
            return []
        dtype = torch.get_default_dtype()
        columns = data.y.shape[-1] + data.u.shape[-1]
        z = torch.as_tensor(np.concatenate([data.y, data.u], -1).reshape(-1, columns), dtype=dtype, device=device)
        y = torch.as_tensor(np.stack([targets[s] for s in self.system.residuals], -1), dtype=dtype, device=device)
        n_states = data.y.shape[-1]
        scale = torch.stack([net.scale for net in _networks(self.model_)])
        opt = torch.optim.Adam(self.model_.parameters(), lr=self.learning_rate)
        history = []
        for _ in range(self.prefit_iterations):
            opt.zero_grad()
            values = self.model_.residual_values(z[:, :n_states], z[:, n_states:])
            assert values is not None  # `_validate` checked that the system has residuals
            loss = (((values - y) / scale) ** 2).mean()
            loss.backward()
            opt.step()
            history.append(loss.item())
        return history

    # Main loop: multiple shooting on random windows
    def _train(self, data: Trajectories, recorded: Trajectories, rng: np.random.Generator, state: dict | None = None,
               fingerprint: str = "", device: torch.device | str = "cpu") -> list[float]:
        windows = self._windows(data, recorded, state, device)
        trainable = _Trainable(self.model_, getattr(windows, "start", None))
        noise = noise_level(data)
        if state is not None and "stride" in state:
            self.stride_, self.stride_error_ = int(state["stride"]), float(state["stride_error"])
        else:
            self.stride_, self.stride_error_ = self._pick_stride(windows, noise, self.seed)

        def loss_on(batch: np.ndarray, stride: int | None = None) -> torch.Tensor:
            return windows.loss(self.model_, batch, self.solver, self.substeps, stride or self.stride_)

        opt = torch.optim.Adam(trainable.parameters(), lr=self.learning_rate)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(self.iterations, 1),
                                                           eta_min=self.learning_rate / 20)
        prefit, start = list(self.loss_history_), 0
        history: list[float] = []
        if state is not None:  # resume: networks, optimiser, schedule, sampler and history as saved
            history, start = self._resume(state, windows, opt, sched, rng)
        self.recoveries_: list[tuple[int, float]] = []
        good = _snapshot(trainable, opt, sched)
        bar = as_progress(self.progress).loop(range(start, self.iterations), "training UDE (Adam)",
                                              total=self.iterations - start)
        for it in bar:
            opt.zero_grad()
            loss = loss_on(windows.sample(rng, self.batch_size))
            if torch.isfinite(loss):
                loss.backward()
            if not torch.isfinite(loss) or not _finite_grads(trainable):
                self._recover(it, loss.item(), good, trainable, opt, sched)
                continue
            opt.step()
            sched.step()
            history.append(loss.item())
            good = self._after_step(it, windows, noise, trainable, opt, sched, good)
            if it % 20 == 0:
                bar.set_postfix(loss=f"{history[-1]:.2e}")
            if self.checkpoint and (it + 1) % max(int(self.checkpoint_every), 1) == 0:
                save_checkpoint(self.checkpoint, {
                    "iteration": it + 1, "model": self.model_.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "rng": rng.bit_generator.state, "history": history,
                    "prefit": prefit, "fingerprint": fingerprint, "stride": self.stride_,
                    "stride_error": self.stride_error_, **trainable.hidden_state(windows),
                })
        bar.close()
        adam = len(history)
        history += self._polish(lambda batch: loss_on(batch, 1), windows.sample(rng, 4 * self.batch_size), trainable)
        self.phases_ = loss_phases(len(prefit), adam, len(history) - adam)
        # the training data with each hidden state's trajectory from its learned start
        self.completed_ = drive_hidden(self.system, recorded, self.hidden_, _hidden(windows).starts_learned()) \
            if self.hidden_ else data
        return history

    def _windows(self, data: Trajectories, recorded: Trajectories, state: dict | None,
                 device: torch.device | str = "cpu") -> Windows:
        dtype = torch.get_default_dtype()
        if not self.hidden_:
            return Windows(data, self.window, dtype, device=device)
        # a resumed run drives the hidden states from where the checkpoint's trace started
        reference = None if state is None else state["hidden_reference"].double().numpy()
        return HiddenWindows(data, self.window, dtype, self.system, recorded, reference)

    def _resume(self, state: dict, windows: Windows, opt, sched, rng: np.random.Generator) -> tuple[list[float], int]:
        """Load a checkpoint's networks, hidden starts, optimiser, schedule and sampler; (history, next step)."""
        self.model_.load_state_dict(state["model"])
        if self.hidden_:
            _hidden(windows).start.data.copy_(state["hidden_start"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        rng.bit_generator.state = state["rng"]
        return list(state["history"]), int(state["iteration"])

    def _after_step(self, it: int, windows: Windows, noise: np.ndarray, trainable: nn.Module, opt, sched,
                    good: dict) -> dict:
        """Periodic work after an Adam step: a snapshot to roll back to, the stride re-checked, the hidden
        trace re-driven. Returns the snapshot now current."""
        if it % 25 == 0:
            good = _snapshot(trainable, opt, sched)
        self._recheck_stride(it, windows, noise)
        if self.hidden_ and (it + 1) % self.STRIDE_CHECK_EVERY == 0:
            _hidden(windows).redrive()  # the hidden trace from the starts learned so far, not a linearisation
            good = _snapshot(trainable, opt, sched)  # its starts count from the new trace
        return good

    STRIDE_CHECK_EVERY = 100  # Adam steps

    def _recheck_stride(self, it: int, windows: Windows, noise: np.ndarray) -> None:
        """After every `STRIDE_CHECK_EVERY` Adam steps the network has changed: is the step still accurate?"""
        if self.stride == "auto" and (it + 1) % self.STRIDE_CHECK_EVERY == 0:
            self.stride_, self.stride_error_ = self._pick_stride(windows, noise, (self.seed, it))

    def _pick_stride(self, windows: Windows, noise: np.ndarray, seed) -> tuple[int, float]:
        if self.stride == "auto" and (self.solver != "rk4" or self.substeps > 1):
            return 1, 0.0
        strides = STRIDES if self.stride == "auto" else (int(self.stride),)
        return choose_stride(self.model_, windows, noise, np.random.default_rng(seed), strides)

    def _recover(self, it: int, loss: float, good: dict, trainable: nn.Module, opt, sched) -> None:
        """Roll back to the last good state with half the learning rate, or stop with a clear error."""
        if len(self.recoveries_) >= int(self.max_recoveries):
            raise FitError(
                f"training loss became {loss} at iteration {it}: the hybrid model diverged "
                f"{len(self.recoveries_) + 1} times (learning rate already lowered to "
                f"{opt.param_groups[0]['lr']:.3g}). Lower `learning_rate`, raise `substeps` or shorten `window`."
            )
        trainable.load_state_dict(good["model"])
        opt.load_state_dict(good["optimizer"])
        sched.load_state_dict(good["scheduler"])
        for group in opt.param_groups:
            group["lr"] /= 2
        sched.base_lrs = [lr / 2 for lr in sched.base_lrs]
        sched.eta_min /= 2
        self.recoveries_.append((it, opt.param_groups[0]["lr"]))

    def _polish(self, loss_on, batch: np.ndarray, trainable: nn.Module) -> list[float]:
        if self.lbfgs_iterations <= 0:
            return []
        opt = torch.optim.LBFGS(trainable.parameters(), max_iter=self.lbfgs_iterations, line_search_fn="strong_wolfe")
        history: list[float] = []

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = loss_on(batch)
            loss.backward()
            history.append(loss.item())
            return loss

        opt.step(closure)
        if not np.isfinite(history[-1]):
            raise FitError("L-BFGS polish diverged; set `lbfgs_iterations=0` or lower `learning_rate`.")
        return history

    # Keep the trained model: a file of tensors and text, read back without unpickling
    def save(self, path: str | Path) -> Path:
        """Write the trained networks and every setting needed to rebuild them to `path` (a `.pt`
        file; a results folder holds it as `ude.pt`). Read it back with `UDE.load`."""
        from ._saved import save_ude

        return save_ude(self, path)

    @classmethod
    def load(cls, path: str | Path) -> UDE:
        """A fitted `UDE` from a file written by `save`, or from a results folder (its `ude.pt`):
        `simulate`, `residual` and `complete` work as after `fit` (`completed_` is not kept: the
        folder's data_train.npz holds the data). Read with `torch.load(..., weights_only=True)`,
        which refuses anything that would run code."""
        from ._saved import load_ude

        return load_ude(cls, path)

    # Use the trained model
    def residual(self, state: str, features: np.ndarray) -> np.ndarray:
        """Evaluate the trained residual of d`state`/dt at `features` `(n, n_features)`."""
        i = list(self.system.residuals).index(state)
        net = _networks(self.model_)[i]
        with torch.no_grad():
            return net(torch.as_tensor(features, dtype=net.mean.dtype)).double().numpy()

    def complete(self, data: Trajectories) -> Trajectories:
        """`data` with the hidden states added (unchanged if it records every state): each
        trajectory's hidden start fitted so the trained model follows the recorded states over
        the first two windows, then the hidden states' known equations driven by the recorded ones."""
        hidden = hidden_states(self.system, data)
        if not hidden:
            return data
        with torch_settings(self.threads, _networks(self.model_)[0].mean.dtype), _frozen(self.model_):
            start = fit_hidden_start(self.model_, self.system, data, hidden, 2 * self.window)
        return drive_hidden(self.system, data, hidden, start)

    def simulate(self, data: Trajectories) -> np.ndarray:
        """Re-simulate the hybrid model from each trajectory's first sample with its inputs (and,
        where `data` does not record a hidden state, from the start `complete` fits); every state."""
        data = self.complete(data)
        net_dtype = _networks(self.model_)[0].mean.dtype
        with torch.no_grad(), torch_settings(self.threads, net_dtype):
            y0 = torch.as_tensor(data.y[:, 0], dtype=net_dtype)
            u = torch.as_tensor(data.u, dtype=net_dtype)
            return integrate_windows(self.model_, y0, u, data.dt, "rk4", self.substeps).double().numpy()


class _Trainable(nn.Module):
    """What training updates: the networks, and each trajectory's hidden start where states are hidden."""

    def __init__(self, model: HybridODE, start: nn.Parameter | None) -> None:
        super().__init__()
        self.model = model
        self.start = start

    def hidden_state(self, windows: Windows) -> dict:
        """For a checkpoint: the starts the hidden trace was driven from, and the offsets learned since."""
        if self.start is None:
            return {}
        return {"hidden_reference": torch.as_tensor(_hidden(windows).reference),
                "hidden_start": self.start.detach().clone()}


def _hidden(windows: Windows) -> HiddenWindows:
    """`windows` where states are hidden: then `UDE._windows` made them `HiddenWindows`."""
    assert isinstance(windows, HiddenWindows), type(windows)
    return windows


def _networks(model: HybridODE) -> list[MLPResidual]:
    """`model`'s residual networks, typed: a `ModuleList`'s items are plain `Module`s to mypy."""
    return [cast(MLPResidual, net) for net in model.residuals]


@contextmanager
def _frozen(module: nn.Module):
    """No gradients for `module`'s parameters inside (a fit of something else through it)."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)


def loss_phases(prefit: int, adam: int, lbfgs: int) -> tuple[tuple[str, int], ...]:
    """(phase, index of its first entry in `loss_history_`) of each phase that ran, in order."""
    phases = (("pre-fit", 0, prefit), ("Adam", prefit, adam), ("L-BFGS", prefit + adam, lbfgs))
    return tuple((name, start) for name, start, n in phases if n)


def _snapshot(model, opt, sched) -> dict:
    return {"model": copy.deepcopy(model.state_dict()), "optimizer": copy.deepcopy(opt.state_dict()),
            "scheduler": copy.deepcopy(sched.state_dict())}


def _finite_grads(model) -> bool:
    return all(p.grad is None or bool(torch.isfinite(p.grad).all()) for p in model.parameters())
