"""`python convert.py`: write an experiment's data as LitData chunks, to train from by streaming."""

import argparse
import sys
from pathlib import Path

from .errors import UserError

USAGE = """python convert.py OUTPUT [--chunk_bytes 64MB] [--writers 1] [train.py's options for the data]

Writes the data of the experiment (the default one, or --config configs/<experiment>.yaml with any
--data.* option) into OUTPUT, a new folder or a bucket URL (s3://, gs://, r2://), as LitData chunks:
every split as its datamodule serves it (resized, standardised), and dataset.json with the sizes a
network needs. Then train from it with
  python train.py fit --config configs/<experiment>.yaml --data=StreamingDataModule --data.input_dir OUTPUT
"""


def main(
    args: list[str] | None = None, base_configs: tuple[Path, ...] = (), default_experiment: Path | None = None
):
    parser = argparse.ArgumentParser(prog="convert.py", usage=USAGE, add_help=False)
    parser.add_argument("output")
    parser.add_argument("--chunk_bytes", default="64MB", help="size of each chunk file")
    parser.add_argument("--writers", type=int, default=1, help="processes writing chunks")
    given = sys.argv[1:] if args is None else args
    if not given or given[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        sys.exit(0 if given else 2)
    options, data_args = parser.parse_known_args(given)

    from .cli import config_files_in
    from .cli import main as cli_main  # Lightning's imports, after the quick answers above
    from .data.streaming import write_chunks

    cli = cli_main(["--trainer.logger=false", *data_args], base_configs, default_experiment, run=False)
    try:
        description = write_chunks(cli.datamodule, options.output, options.chunk_bytes, options.writers)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    counts = ", ".join(f"{count} {split}" for split, count in description["splits"].items())
    configs = "".join(f" --config {path}" for path in config_files_in(data_args))
    print(f"Wrote {counts} samples of {description['source']} to {options.output}. Train from them:")
    print(f"  python train.py fit{configs} --data=StreamingDataModule --data.input_dir {options.output}")
