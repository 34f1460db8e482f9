"""Sweeps: many runs of one experiment from one sweep file (configs/sweeps/*.yaml).

Offline, with Optuna (this script; pip install -e ".[sweeps]"):
    python sweep.py configs/sweeps/lr_batch.yaml                 run_cap trials (a grid: all of it)
    python sweep.py configs/sweeps/lr_batch.yaml --trials 20     how many trials in all
    python sweep.py configs/sweeps/lr_batch.yaml --resume        go on after Ctrl-C or a crash
    python sweep.py configs/sweeps/lr_batch.yaml --storage postgresql://user@host/optuna
                                                                 one study for workers on many machines
    python sweep.py configs/sweeps/lr_batch.yaml --check         check the file; run nothing

With W&B Sweeps (a W&B account), from the same file:
    wandb sweep configs/sweeps/lr_batch.yaml                     prints the agent command
    wandb agent <entity>/<project>/<sweep id>                    on each machine
    sbatch --array=0-7 scripts/slurm_sweep.sh <entity>/<project>/<sweep id>    8 agents on SLURM

Then compare the runs: python compare.py runs/digits_cnn
"""

import sys

from train import BASE_CONFIG, DEFAULT_EXPERIMENT

if __name__ == "__main__":
    try:
        import {{ cookiecutter.package_name }}.preload  # noqa: F401  (first: see train.py)
        from {{ cookiecutter.package_name }}.sweeps.study import main
    except ModuleNotFoundError as error:
        if error.name not in ("optuna", "optuna_integration"):
            raise
        print('error: sweep.py needs Optuna: pip install -e ".[sweeps]"', file=sys.stderr)
        sys.exit(2)
    sys.exit(main(configs=(BASE_CONFIG, DEFAULT_EXPERIMENT)))
