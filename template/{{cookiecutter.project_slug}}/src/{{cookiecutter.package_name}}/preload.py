"""Imports that cost far less before torch and Lightning are loaded than after: `train.py` and
`sweep.py` import this module before anything else of the project.

W&B loads its Launch client at the start of every run, to apply job inputs that may have been
staged in the process. Its pydantic models look up their own source through
`inspect.getmodule`, which scans every loaded module: about 0.4 s with few modules loaded, 1.5 to
2 s once torch and Lightning are. Loaded here, first, W&B does exactly what it did, sooner.
"""

import contextlib

with contextlib.suppress(ImportError):  # a W&B release without it has nothing to load early
    import wandb.sdk.launch.inputs.internal  # noqa: F401
