"""Train, evaluate and predict from the command line (LightningCLI, run by litproject).

    python train.py fit                                    train the default experiment
    python train.py fit --config configs/<experiment>.yaml train another experiment
    python train.py test --config configs/<experiment>.yaml --ckpt_path best
                                                           evaluate (also validate; best, last or a file)
    python train.py predict --config configs/<experiment>.yaml --ckpt_path best
                                                           predictions to the run's folder, as CSV
    python train.py fit --trainer.max_epochs=3 --model.optimizer.lr=1e-3
                                                           override any setting of the configs
    python train.py lr_find --config configs/<experiment>.yaml
                                                           a learning rate to start from, measured
    python train.py serve --ckpt_path best --port 8000     the model over HTTP (pip install -e ".[serve]")
    python train.py fit --print_config                     the resolved config, without training
    python train.py fit --help                             every option

`configs/trainer.yaml` (shared settings) is read first, then the experiment: `--config` files,
or `configs/digits_cnn.yaml` when none is given; flags override them. Each `fit` writes into its own
folder, runs/<experiment>/<run>/ (--run_name names it; by default, its start time).
Sweeps, comparisons, exports and streamed data: `litproject --help`.
"""

from pathlib import Path

import litproject

CONFIGS = Path(__file__).resolve().parent / "configs"
BASE_CONFIG = CONFIGS / "trainer.yaml"  # settings every experiment shares
DEFAULT_EXPERIMENT = CONFIGS / "digits_cnn.yaml"  # read only when no --config is given

if __name__ == "__main__":
    litproject.main(BASE_CONFIG, DEFAULT_EXPERIMENT, guide=__doc__)
