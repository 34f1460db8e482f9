#!/bin/bash
# W&B Sweeps on a SLURM cluster: one W&B agent per array task, each running trials until the
# sweep is done. From the project folder:
#   wandb sweep configs/sweeps/lr_batch.yaml        # once: prints the sweep's <entity>/<project>/<id>
#   sbatch --array=0-7 scripts/slurm_sweep.sh <entity>/<project>/<id> [trials per agent]
# Edit the #SBATCH lines for your cluster. Needs a W&B account (wandb login) and network.
#SBATCH --job-name={{ cookiecutter.project_slug }}-sweep
#SBATCH --array=0-3
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --output=slurm-%A_%a.out
# 120 s before the time limit SLURM signals this script, which requeues the task: its agent starts
# again and goes on with the sweep's next trials. SLURM stops the running trial with SIGTERM: it
# saves its last checkpoint (in runs/<experiment>/<its W&B run id>/) and W&B shows it as crashed;
# W&B does not run it again.
#SBATCH --signal=B:USR1@120
#SBATCH --requeue
set -euo pipefail

sweep="${1:?usage: sbatch --array=0-N scripts/slurm_sweep.sh ENTITY/PROJECT/SWEEP_ID [TRIALS]}"
count="${2:-}"

trap 'echo "Time limit near: requeueing."; scontrol requeue "${SLURM_JOB_ID}"' USR1
wandb agent --forward-signals ${count:+--count "$count"} "$sweep" &
wait $!
