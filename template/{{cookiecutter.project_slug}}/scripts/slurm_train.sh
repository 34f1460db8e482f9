#!/bin/bash
# Train on a SLURM cluster, from the project folder:
#   sbatch scripts/slurm_train.sh configs/mnist_cnn.yaml [more train.py flags]
# Edit the #SBATCH lines for your cluster. One process per GPU: --ntasks-per-node must equal
# the GPUs per node (--gres), and the script passes both counts on to Lightning.
#SBATCH --job-name={{ cookiecutter.project_slug }}
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --output=slurm-%j.out
# 90 s before the time limit SLURM sends SIGUSR1: Lightning saves hpc_ckpt_<n>.ckpt in the run's
# folder and requeues the job; the requeued job (same job id, so the same run) resumes from it.
#SBATCH --signal=SIGUSR1@90
#SBATCH --requeue
set -euo pipefail

config="${1:?usage: sbatch scripts/slurm_train.sh CONFIG [train.py flags], e.g. configs/mnist_cnn.yaml}"
shift

# One run per job (per array task): runs/<experiment>/slurm-<job id>[-<task>]/. --ckpt_path last
# starts it the first time and resumes it after a requeue, from its newest checkpoint.
run="slurm-${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-local}}${SLURM_ARRAY_TASK_ID:+-$SLURM_ARRAY_TASK_ID}"

# Lightning reads ranks and the master address from SLURM's environment.
srun python train.py fit --config "$config" \
    --run_name "$run" --ckpt_path last \
    --trainer.num_nodes="${SLURM_JOB_NUM_NODES:-1}" \
    --trainer.devices="${SLURM_NTASKS_PER_NODE:-1}" \
    --trainer.strategy=ddp \
    "$@"
