"""Networks (models/), datamodules (data/) and training logic (tasks/); `train.py` runs them."""

__version__ = "0.1.0"
