"""Train, evaluate and predict from the command line.

    python train.py fit                                  # the default experiment: CNN on digits
    python train.py fit --config configs/<name>.yaml     # another experiment
    python train.py test --config configs/<name>.yaml --ckpt_path runs/<name>/checkpoints/best.ckpt
    python train.py fit --help                           # every option

`configs/trainer.yaml` (shared settings) and `configs/digits_cnn.yaml` (the default
experiment) are read first; `--config` files and flags override them.
"""

from pathlib import Path

from {{ cookiecutter.package_name }}.cli import main

CONFIGS = Path(__file__).resolve().parent / "configs"
DEFAULT_CONFIGS = [CONFIGS / "trainer.yaml", CONFIGS / "digits_cnn.yaml"]

if __name__ == "__main__":
    main(default_config_files=DEFAULT_CONFIGS)
