"""Write an experiment's data as LitData chunks, to train from by streaming (data bigger than
memory, or on storage several machines share). Needs `pip install -e ".[streaming]"`.

    python convert.py data/digits-chunks                          the default experiment's data
    python convert.py data/images-chunks --config configs/folder_cnn.yaml --data.train_dir data/images
    python convert.py s3://bucket/digits-chunks                   to a bucket (credentials as for boto3)

then
    python train.py fit --data=StreamingDataModule --data.input_dir data/digits-chunks

Each split is written as its datamodule serves it (resized, standardised); OUTPUT must be new.
"""

from pathlib import Path

CONFIGS = Path(__file__).resolve().parent / "configs"

if __name__ == "__main__":  # also keeps LitData's writer processes from running this again
    from {{ cookiecutter.package_name }}.convert import main

    main(base_configs=[CONFIGS / "trainer.yaml"], default_experiment=CONFIGS / "digits_cnn.yaml")
