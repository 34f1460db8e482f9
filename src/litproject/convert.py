"""`litproject convert`: write an experiment's data as LitData chunks, to train from by streaming."""

import argparse
import logging
import sys

from . import project

USAGE = """litproject convert OUTPUT [--chunk_bytes 64MB] [--writers 1] [train.py's options for the data]

Writes the data of the experiment (the default one, or --config configs/<experiment>.yaml with any
--data.* option) into OUTPUT, a new folder or a bucket URL (s3://, gs://, r2://), as LitData chunks:
every split as its datamodule serves it (resized, standardised), and dataset.json with the sizes a
network needs. Then train from it with
  python train.py fit --config configs/<experiment>.yaml --data=StreamingDataModule --data.input_dir OUTPUT
"""


def main(args: list[str] | None = None) -> int:
    """Run in a project's folder: the data is what its `python train.py` builds from the same options."""
    parser = argparse.ArgumentParser(prog="litproject convert", usage=USAGE, add_help=False)
    parser.add_argument("output")
    parser.add_argument("--chunk_bytes", default="64MB", help="size of each chunk file")
    parser.add_argument("--writers", type=int, default=1, help="processes writing chunks")
    given = sys.argv[1:] if args is None else args
    if not given or given[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 0 if given else 2
    options, data_args = parser.parse_known_args(given)
    base_config, default_experiment = project.configs()

    from .cli import config_files_in
    from .cli import main as cli_main  # Lightning's imports, after the quick answers above
    from .data.streaming import write_chunks

    # Only the data is used: Lightning's lines about the Trainer it builds (devices, seed) would
    # come before this command's own.
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    cli = cli_main(["--trainer.logger=false", *data_args], [base_config], default_experiment, run=False)
    description = write_chunks(cli.datamodule, options.output, options.chunk_bytes, options.writers)
    counts = ", ".join(f"{count} {split}" for split, count in description["splits"].items())
    configs = "".join(f" --config {path}" for path in config_files_in(data_args))
    print(f"Wrote {counts} samples of {description['source']} to {options.output}. Train from them:")
    print(f"  python train.py fit{configs} --data=StreamingDataModule --data.input_dir {options.output}")
    return 0
