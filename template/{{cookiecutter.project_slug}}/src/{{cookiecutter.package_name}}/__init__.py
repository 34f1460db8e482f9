"""Networks (models/), datamodules (data/) and training logic (tasks/); `train.py` trains them
with litproject, which runs the command line, the run folders, tracking and the rest."""

__version__ = "0.1.0"
