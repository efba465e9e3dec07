"""Many small L-BFGS fits run in lockstep, their losses evaluated together."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence

import torch


class _Abort(Exception):
    """Raised in a worker's closure when the batched evaluation failed."""


TOLERANCE_CHANGE = 1e-7
"""L-BFGS stops when a step changes the loss (in units of its start) by less than this."""


def lbfgs_many(values: Sequence[torch.Tensor], losses: Callable[[list[int]], torch.Tensor],
               iterations: int | Sequence[int]) -> list[tuple[float, float]]:
    """Minimise each problem's loss over `values[k]` (in place) by its own L-BFGS (torch's
    `LBFGS` with the strong-Wolfe line search; tests/choose/test_batch.py runs one problem at a
    time as the reference), all of them in lockstep: `losses(ks)` evaluates problems `ks` at once
    (one batched integration) and returns their losses. Returns (loss before, loss after) per
    problem, with `after` = inf where the fit blew up. `iterations`: L-BFGS steps, for all
    problems or one number per problem.

    Each optimiser runs in a thread of its own and blocks in its closure until the batch it asked
    to be part of is evaluated: the same steps, line searches and stopping rules as fitting the
    problems one by one, at the cost of about one batched evaluation per round.
    """
    if not values:
        return []
    steps = [iterations] * len(values) if isinstance(iterations, int) else list(iterations)
    with torch.no_grad():
        before = [float(v) for v in losses(list(range(len(values))))]
    after = [float("inf")] * len(values)
    active = [k for k in range(len(values)) if math.isfinite(before[k])]
    state: dict[int, object] = {k: "running" for k in active}
    served: dict[int, torch.Tensor] = {}
    condition = threading.Condition()

    def worker(k: int) -> None:
        opt = torch.optim.LBFGS([values[k]], max_iter=steps[k], line_search_fn="strong_wolfe",
                                tolerance_change=TOLERANCE_CHANGE)

        def closure() -> torch.Tensor:
            with condition:
                if state[k] != "abort":
                    state[k] = "waiting"
                    condition.notify_all()
                    condition.wait_for(lambda: state[k] != "waiting")
                if state[k] == "abort":
                    raise _Abort
                return served.pop(k)
        try:
            opt.step(closure)
            outcome: object = "done"
        except (RuntimeError, _Abort):
            outcome = "failed"
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread below
            outcome = error
        with condition:
            state[k] = outcome
            condition.notify_all()

    def evaluate(ks: list[int]) -> dict[int, torch.Tensor | None]:
        """Losses of problems `ks` at their current values, their gradients left in `.grad`; None for a
        problem whose evaluation raised a RuntimeError (as its own fit would have: that fit fails)."""
        for k in ks:
            values[k].grad = None
        try:
            with torch.enable_grad():
                # each loss in units of its start, so L-BFGS's absolute tolerances act as relative ones:
                # a well-fitted model's loss of 3e-4 stopped it after 5 steps, half-way down a valley
                out = losses(ks)
                out = out / out_scale(ks, before).to(out)
                out.sum().backward()  # each problem's numbers reach only its own loss
            return {k: out[i].detach() for i, k in enumerate(ks)}
        except RuntimeError:
            if len(ks) == 1:
                return {ks[0]: None}
            return {k: loss for one in ks for k, loss in evaluate([one]).items()}  # which one raised

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in active]
    for thread in threads:
        thread.start()
    try:
        while True:
            with condition:
                condition.wait_for(lambda: all(state[k] != "running" for k in active))
                waiting = [k for k in active if state[k] == "waiting"]
            if not waiting:
                break
            result = evaluate(waiting)
            with condition:
                for k, loss in result.items():
                    if loss is not None:
                        served[k] = loss
                    state[k] = "running" if loss is not None else "abort"
                condition.notify_all()
    except BaseException:  # no worker left waiting for an evaluation that will not come
        with condition:
            for k in active:
                if state[k] in ("running", "waiting"):
                    state[k] = "abort"
            condition.notify_all()
        raise
    finally:
        for thread in threads:
            thread.join()
    for k in active:
        error = state[k]
        if isinstance(error, BaseException):
            raise error
    done = [k for k in active if state[k] == "done"]
    if done:
        with torch.no_grad():
            for k, value in zip(done, losses(done), strict=True):
                after[k] = float(value)
    return list(zip(before, after, strict=True))


def out_scale(ks: list[int], before: list[float]) -> torch.Tensor:
    return torch.tensor([before[k] if before[k] > 0 else 1.0 for k in ks], dtype=torch.float64)


__all__ = ["lbfgs_many"]
