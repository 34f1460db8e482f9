"""Sweeps: many runs from one sweep file (`configs/sweeps/*.yaml`, W&B's sweep format).

`spec.py` reads and checks the file for both engines; `study.py` runs it with Optuna
(`python sweep.py`). W&B's own agent runs it with `wandb agent` (see `scripts/slurm_sweep.sh`).
"""
