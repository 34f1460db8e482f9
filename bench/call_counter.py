"""A cost per training step that the machine's noise cannot move: function calls, counted.

Wall time on a shared VM varies 10-20 % from run to run; the number of function calls a step
makes does not (the same code, data and seed make the same calls). With `BENCH_COUNT=1` the
benchmark runs each variant once more with `sys.setprofile` counting every call of the main
thread (Python functions and C builtins) inside the same windows the timer measures, from the
first training batch's start to the last one's end in every epoch after the first.

Calls are what the framework and the template add around the network: the tensor kernels are
the same in every variant, and the Python around them is what costs here. Each call is charged
to the part that made it, so that two variants' difference reads as a list of causes:

- a callback's, logger's or LightningModule's hook called by Lightning is its own part
  (`ModelCheckpoint.on_train_batch_end`, `module.training_step`, ...), with everything it calls,
  except what it asks of Lightning, which is named after the Lightning function it calls
  (`module.training_step > LightningModule.log`): the hook's choice, Lightning's code;
- code outside Lightning called by Lightning's loop is the part it enters (`Adam.step`,
  `Tensor.backward`, ...), until it calls back into Lightning (the optimizer's closure);
- the rest is Lightning's own loop (`loop`).
"""

import os
import sys
from collections import Counter

LOOP = "loop"
_LIGHTNING = tuple(f"{os.sep}{package}{os.sep}" for package in ("lightning", "lightning_utilities"))


def _in_lightning(code) -> bool:
    return any(folder in code.co_filename for folder in _LIGHTNING)


def _hooked_classes() -> tuple[type, ...]:
    """The classes whose methods Lightning calls as hooks (none in the raw loop's process)."""
    if "lightning.pytorch" not in sys.modules:
        return ()
    from lightning.pytorch import Callback, LightningModule
    from lightning.pytorch.loggers import Logger

    return (Callback, Logger, LightningModule)


class CallCounter:
    def __init__(self) -> None:
        self.parts: Counter[str] = Counter()
        # For each frame entered while counting: its part, and the hook (or loop) it runs under.
        self._frames: list[tuple[str, str]] = []
        self._hooked = _hooked_classes()

    def start(self) -> None:
        sys.setprofile(self._profile)

    def stop(self) -> None:
        sys.setprofile(None)
        self._frames.clear()  # frames still active belong to no window

    def per_step(self, steps: int) -> dict[str, float]:
        """Calls per step by part, the timer's own calls left out."""
        return {part: n / steps for part, n in self.parts.most_common() if not part.startswith("StepTimer.")}

    def _profile(self, frame, event: str, arg) -> None:
        if event == "call":
            entry = self._enter(frame)
            self._frames.append(entry)
            self.parts[entry[0]] += 1
        elif event == "return":
            if self._frames:  # frames entered before start() return without a record
                self._frames.pop()
        elif event == "c_call":
            self.parts[self._frames[-1][0] if self._frames else LOOP] += 1

    def _enter(self, frame) -> tuple[str, str]:
        part, hook = self._frames[-1] if self._frames else (LOOP, LOOP)
        caller = frame.f_back
        code = frame.f_code
        in_lightning = _in_lightning(code)
        if caller is None or not _in_lightning(caller.f_code):
            if not in_lightning:
                return part, hook  # called by a part's own code: still that part
            if hook == LOOP:
                return LOOP, LOOP  # torch calling back into Lightning's loop (the optimizer's closure)
            return f"{hook} > {code.co_qualname}", hook  # a hook's code asking Lightning for something
        this = frame.f_locals.get("self") if code.co_argcount and code.co_varnames[0] == "self" else None
        caller_self = caller.f_locals.get("self") if "self" in caller.f_code.co_varnames else None
        if self._hooked and isinstance(this, self._hooked) and this is not caller_self:
            # A hook, even one Lightning ships; the module's by role, so that variants compare.
            owner = "module" if isinstance(this, self._hooked[-1]) else type(this).__name__
            return f"{owner}.{code.co_name}", f"{owner}.{code.co_name}"
        if not in_lightning and hook == LOOP:  # Lightning's loop enters torch: name what it enters
            return (f"{type(this).__name__}.{code.co_name}" if this is not None else code.co_qualname), hook
        return part, hook
