"""Train, evaluate and predict from the command line (LightningCLI).

    python train.py fit                                    train the default experiment
    python train.py fit --config configs/<experiment>.yaml train another experiment
    python train.py test --config configs/<experiment>.yaml --ckpt_path best
                                                           evaluate (also validate; best, last or a file)
    python train.py predict --config configs/<experiment>.yaml --ckpt_path best
                                                           predictions to runs/<experiment>/predictions-*.csv
    python train.py fit --trainer.max_epochs=3 --model.optimizer.lr=1e-3
                                                           override any setting of the configs
    python train.py fit --print_config                     the resolved config, without training
    python train.py fit --help                             every option

`configs/trainer.yaml` (shared settings) and `configs/digits_cnn.yaml` (the default
experiment) are read first; `--config` files and flags override them.
"""

import sys
from pathlib import Path

CONFIGS = Path(__file__).resolve().parent / "configs"
DEFAULT_CONFIGS = [CONFIGS / "trainer.yaml", CONFIGS / "digits_cnn.yaml"]

if __name__ == "__main__":
    if len(sys.argv) == 1:  # no subcommand: this guide, before Lightning's seconds of imports
        experiments = sorted(path.stem for path in CONFIGS.glob("*.yaml") if path != DEFAULT_CONFIGS[0])
        print(f"{__doc__}\nExperiments in configs/: {', '.join(experiments)}", file=sys.stderr)
        sys.exit(2)  # as for any other command-line mistake
    from {{ cookiecutter.package_name }}.cli import main

    main(default_config_files=DEFAULT_CONFIGS)
