"""A gate whose kinetics are unknown, learned from the membrane potential alone.

dx/dt = (x_inf(V) - x)/tau(V) with x not recorded: x_inf and tau are small networks of V
(x_inf bounded to (0, 1) by a sigmoid, tau > 0 by an exponential), trained through the model's
recorded equations (V's, with the gate's current in it) on V and the injected current only.

Training is teacher-forced, as GIF fitting regresses dV/dt on the recorded V: every gate is
driven by the recorded V (the known ones once, by their own equations; the unknown one at every
step, by exponential Euler through the networks, which is exact for V held over a sample interval
and a linear recurrence solved in chunks instead of sample by sample), and the loss is the error
of V integrated by RK4 over short windows that start at recorded samples. A window of a few
samples averages the recording noise that a one-step derivative would divide by dt.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
import sympy as sp
import torch
from torch import nn

from .._errors import DataError, FitError, did_you_mean
from ..data import Trajectories
from ..equations import EquationSystem, TorchRHS
from ..integrate import integrate_windows, rk4_step
from ._hidden import drive_hidden, resting_hidden

Kinetics = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # V -> (x_inf(V), tau(V))
CHUNK = 32  # samples per chunk of the linear recurrence: exp(sum dt/tau) stays far from overflow


def linear_scan(a: torch.Tensor, b: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
    """x_{k+1} = a_k x_k + b_k for `a`, `b` `(n, T - 1)` from `x0` `(n,)`: `(n, T)`. Within a
    chunk x_{j+1} = P_j (x_s + sum_{i<=j} b_i / P_i) with P_j the product of a up to j, so each
    chunk costs a few vector operations; the chunks are chained one after another."""
    out, x = [x0[:, None]], x0
    for s in range(0, a.shape[1], CHUNK):
        log_p = torch.cumsum(torch.log(a[:, s:s + CHUNK]), dim=1)
        xs = torch.exp(log_p) * (x[:, None] + torch.cumsum(b[:, s:s + CHUNK] * torch.exp(-log_p), dim=1))
        out.append(xs)
        x = xs[:, -1]
    return torch.cat(out, dim=1)


def gate_trace(kinetics: Kinetics, v: torch.Tensor, dt: float) -> torch.Tensor:
    """The gate driven by the voltage `v` `(n, T)`: exponential Euler with V held at each
    interval's midpoint, from x_inf of the first sample (at rest)."""
    x_inf, tau = kinetics((v[:, 1:] + v[:, :-1]) / 2)
    a = torch.exp(-dt / tau)
    start = kinetics(v[:, 0])[0]
    return linear_scan(a, (1 - a) * x_inf, start)


class GateNetworks(nn.Module):
    """x_inf(V) = sigmoid(MLP(V)), tau(V) = tau_min + tau0 * exp(MLP(V)), V standardised inside."""

    def __init__(self, mean: float, std: float, tau0: float, tau_min: float, width: int = 16, depth: int = 2) -> None:
        super().__init__()
        self.mean, self.std, self.tau0, self.tau_min = mean, std, tau0, tau_min
        self.x_inf_net, self.tau_net = self._mlp(width, depth), self._mlp(width, depth)

    @staticmethod
    def _mlp(width: int, depth: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i in range(depth):
            layers += [nn.Linear(1 if i == 0 else width, width), nn.Tanh()]
        last = nn.Linear(width, 1)
        nn.init.normal_(last.weight, std=1e-2)
        nn.init.zeros_(last.bias)
        return nn.Sequential(*layers, last)

    def forward(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = ((v - self.mean) / self.std)[..., None]
        x_inf = torch.sigmoid(self.x_inf_net(z)[..., 0])
        tau = self.tau_min + self.tau0 * torch.exp(self.tau_net(z)[..., 0].clamp(max=30))
        return x_inf, tau


class DrivenWindows:
    """The teacher-forced loss of a model whose gate `gate` has kinetics given by a function of V:
    the recorded states integrated by RK4 over `window` samples from recorded samples, every hidden
    state read off its trace driven by the recorded V."""

    def __init__(self, system: EquationSystem, data: Trajectories, gate: str, voltage: str, window: int) -> None:
        self.system, self.gate, self.window, self.dt = system, gate, window, float(data.dt)
        self.recorded = [system.state_index(s) for s in data.states]
        self.gate_index = system.state_index(gate)
        full = _known_traces(system, data, gate)
        self.full = torch.as_tensor(full, dtype=torch.float64)
        self.u = torch.as_tensor(data.u, dtype=torch.float64)
        self.v = torch.as_tensor(data.y[..., data.states.index(voltage)], dtype=torch.float64)
        self.scale = torch.as_tensor(data.y.reshape(-1, data.y.shape[-1]).std(0) + 1e-12, dtype=torch.float64)
        # only the recorded states are integrated: the hidden ones' equations are left out of the
        # compiled function (HH's three gates cost twice what V does)
        recorded_only = tuple(r if s in data.states else sp.Integer(0) for s, r in zip(system.states, system.rhs,
                                                                                        strict=True))
        self.rhs = TorchRHS(dataclasses.replace(system, rhs=recorded_only))
        n_traj, n_t = data.y.shape[:2]
        if n_t <= window:
            raise DataError(f"each trajectory needs more than `window`={window} samples, got {n_t}; record longer "
                            "trajectories or lower `window`.")
        traj, start = np.meshgrid(np.arange(n_traj), np.arange(n_t - window), indexing="ij")
        self.starts = np.column_stack([traj.ravel(), start.ravel()])

    def loss(self, kinetics: Kinetics, rows: np.ndarray | None = None) -> torch.Tensor:
        """Mean squared error of the windows starting at `rows` of `starts` (all by default), each
        recorded state divided by its standard deviation."""
        return (self.errors(kinetics, rows) ** 2).mean()

    def errors(self, kinetics: Kinetics, rows: np.ndarray | None = None) -> torch.Tensor:
        """The scaled errors `(window, n_rows, n_recorded)` whose mean square is `loss`."""
        x = gate_trace(kinetics, self.v, self.dt)
        full = self.full.clone()
        full[..., self.gate_index] = x
        picked = self.starts if rows is None else self.starts[rows]
        traj = torch.as_tensor(picked[:, 0])
        k = torch.as_tensor(picked[:, 1])
        y = full[traj, k][:, self.recorded]
        out = []
        for j in range(self.window):
            here, there = full[traj, k + j], full[traj, k + j + 1]
            # every stage's "input" is the hidden states beside the injected ones, at the step's
            # start, middle and end (the traces are linear between samples, as inputs are)
            ua, uc = torch.cat([here, self.u[traj, k + j]], -1), torch.cat([there, self.u[traj, k + j + 1]], -1)
            y = rk4_step(self._rhs, y, ua, (ua + uc) / 2, uc, self.dt)
            out.append((y - there[:, self.recorded]) / self.scale)
        return torch.stack(out)

    def _rhs(self, y: torch.Tensor, hidden_and_u: torch.Tensor) -> torch.Tensor:
        n = self.full.shape[-1]
        full = hidden_and_u[:, :n].clone()
        full[:, self.recorded] = y
        return self.rhs(full, hidden_and_u[:, n:], None)[:, self.recorded]


def _known_hidden(system: EquationSystem, data: Trajectories, gate: str) -> tuple[EquationSystem, tuple[str, ...]]:
    """The system without `gate`, its recorded states' equations zeroed (only the hidden ones are
    driven), and its hidden states: those of known kinetics."""
    others = tuple(s for s in system.states if s != gate)
    rhs = []
    for s in others:
        expr = system.equation(s)
        if s in data.states:
            rhs.append(sp.Integer(0))
        elif system.symbol(gate) in expr.free_symbols:
            raise FitError(f"the known equation of hidden state {s!r} uses the unknown gate {gate!r}; a gate whose "
                           f"kinetics are learned may only enter recorded states' equations. Record {s!r}.")
        else:
            rhs.append(expr)
    units = {k: v for k, v in system.units.items() if k != gate}
    reduced = dataclasses.replace(system, states=others, rhs=tuple(rhs), units=units, spike=None, discovered={})
    return reduced, tuple(s for s in others if s not in data.states)


def _known_traces(system: EquationSystem, data: Trajectories, gate: str) -> np.ndarray:
    """`(n_traj, T, n_states)`: the recorded states, the hidden gates of known kinetics driven by
    the recorded ones (their own equations, from rest) and zeros in `gate`'s column."""
    reduced, hidden = _known_hidden(system, data, gate)
    driven = drive_hidden(reduced, data, hidden) if hidden else data
    full = np.zeros((*data.y.shape[:2], len(system.states)))
    for s in reduced.states:
        full[..., system.state_index(s)] = driven.y[..., driven.states.index(s)]
    return full


@dataclasses.dataclass(frozen=True)
class GateFit:
    """What `GateKinetics.fit` learned, beside the networks: the loss at each Adam step, the 1st and
    99th percentiles of the recorded voltage (where the networks were trained, and trustworthy) and
    the seconds it took."""

    losses: tuple[float, ...]
    voltage_range: tuple[float, float]
    seconds: float


class GateKinetics:
    """Learn the kinetics of gate `gate` of `system` from recordings of its other states (V and the
    injected current): dgate/dt = (x_inf(V) - gate)/tau(V), both networks of V.

    `system` is the whole model (HH's V, m, h, n with n's equation as written, which is ignored);
    the data record `voltage` (and may record other states); every other state is hidden and must
    have known equations driven by the recorded ones.

    **Arguments:** `gate`, `voltage`: state names; `window`: samples per teacher-forced window;
    `steps`: Adam steps; `batch`: windows per step; `lr`; `width`, `depth`: of each network;
    `tau0`: the time constant the networks start from (default 50 samples); `seed`.

    **Learned:** `networks_` (`GateNetworks`), `fit_` (`GateFit`), `windows_` (`DrivenWindows`).
    """

    def __init__(self, system: EquationSystem, gate: str, voltage: str = "V", *, window: int = 8,
                 steps: int = 600, batch: int = 4096, lr: float = 1e-2, width: int = 16, depth: int = 2,
                 tau0: float | None = None, seed: int = 0) -> None:
        self.system, self.gate, self.voltage = system, gate, voltage
        self.window, self.steps, self.batch, self.lr = window, steps, batch, lr
        self.width, self.depth, self.tau0, self.seed = width, depth, tau0, seed

    def _check(self, data: Trajectories) -> None:
        states = self.system.states
        for name, value in (("gate", self.gate), ("voltage", self.voltage)):
            if value not in states:
                raise FitError(f"`{name}`={value!r} is not a state of the system {list(states)}."
                               + did_you_mean(value, states))
        if self.gate in data.states:
            raise DataError(f"the data record the gate {self.gate!r}; its kinetics are learned only when it is hidden. "
                            f"Drop the column, or fit the recorded gate with `discover()`.")
        if self.voltage not in data.states:
            raise DataError(f"the data must record the voltage {self.voltage!r}; they record {list(data.states)}.")
        if self.system.spike is not None:
            raise FitError("the system has a spike rule (threshold and reset); the windows would integrate through "
                           "its resets. Learn gates of a conductance model that spikes by its own currents (HH, "
                           "Morris-Lecar), or drop the rule.")
        if self.system.residuals:
            raise FitError(f"the system has residual networks on {sorted(self.system.residuals)}; learn the gate's "
                           "kinetics on a model without them.")
        for setting, number, low in (("window", self.window, 1), ("steps", self.steps, 0), ("batch", self.batch, 1)):
            if isinstance(number, bool) or not isinstance(number, int) or number < low:
                raise FitError(f"`{setting}` must be an integer >= {low}, got {number!r}.")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise FitError(f"`lr` must be a positive number, got {self.lr!r}.")

    def fit(self, data: Trajectories) -> GateKinetics:
        """Train the networks on `data` (the recorded states, `voltage` among them, and the inputs)."""
        self._check(data)
        began = time.perf_counter()
        rng = np.random.default_rng(self.seed)
        windows = DrivenWindows(self.system, data, self.gate, self.voltage, self.window)
        v = data.y[..., data.states.index(self.voltage)]
        dt = float(data.dt)
        tau0 = 50 * dt if self.tau0 is None else float(self.tau0)
        with torch.random.fork_rng():  # the networks' start is seeded without touching the caller's torch seed
            torch.manual_seed(self.seed)
            nets = GateNetworks(float(v.mean()), float(v.std() + 1e-12), tau0, dt / 4, self.width,
                                self.depth).double()
        opt = torch.optim.Adam(nets.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(self.steps, 1), eta_min=self.lr / 20)
        losses = []
        n = len(windows.starts)
        for _ in range(self.steps):
            rows = rng.choice(n, min(self.batch, n), replace=False)
            opt.zero_grad()
            loss = windows.loss(nets, rows)
            if not torch.isfinite(loss):
                raise FitError("the gate's training loss is not finite; lower `lr` or check the data's units.")
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        self.networks_, self.windows_ = nets, windows
        low, high = np.percentile(v, [1, 99])
        self.fit_ = GateFit(tuple(losses), (float(low), float(high)), time.perf_counter() - began)
        return self

    def simulate(self, data: Trajectories, substeps: int = 1) -> np.ndarray:
        """The model with the learned networks re-simulated on `data`'s inputs from its first
        sample (hidden states at rest there: the known ones by their equations, the gate at x_inf):
        RK4 in float64, `substeps` per sample interval. Returns every state `(n_traj, T, n_states)`."""
        system, gate = self.system, self.system.state_index(self.gate)
        v_index = system.state_index(self.voltage)
        rhs, nets = TorchRHS(system), self.networks_
        reduced, hidden = _known_hidden(system, data, self.gate)
        y0 = np.zeros((data.n_trajectories, len(system.states)))
        for s in data.states:
            y0[:, system.state_index(s)] = data.y[:, 0, data.states.index(s)]
        if hidden:
            y0[:, [system.state_index(s) for s in hidden]] = resting_hidden(reduced, data, hidden)

        def f(y: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
            x_inf, tau = nets(y[:, v_index])
            dy = rhs(y, u, None).clone()
            dy[:, gate] = (x_inf - y[:, gate]) / tau
            return dy
        with torch.no_grad():
            start = torch.as_tensor(y0, dtype=torch.float64)
            start[:, gate] = nets(start[:, v_index])[0]
            u = torch.as_tensor(data.u, dtype=torch.float64)
            return integrate_windows(f, start, u, float(data.dt), substeps=substeps).numpy()

    def curves(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The learned x_inf and tau at voltages `v`."""
        with torch.no_grad():
            x_inf, tau = self.networks_(torch.as_tensor(np.asarray(v, dtype=float)))
        return x_inf.numpy(), tau.numpy()
