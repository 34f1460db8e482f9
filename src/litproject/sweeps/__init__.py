"""Sweeps: many runs from one sweep file (a project's `configs/sweeps/*.yaml`, W&B's sweep format).

`spec.py` reads and checks the file for both engines; `study.py` runs it with Optuna
(`litproject sweep`). W&B's own agent runs it with `wandb agent` (the project's
`scripts/slurm_sweep.sh` runs one per SLURM array task).
"""
