"""Lightning behaviour this project relies on that Lightning (2.6) has no public name for.

Every use of a private Lightning member goes through this module, so that a Lightning release
that changes one breaks here, in one place, and in the tests that cover each function.
"""

from lightning.pytorch import Trainer


def logs_this_step(trainer: Trainer) -> bool:
    """Whether Lightning sends this training step's `self.log` values to the loggers: every
    `log_every_n_steps` steps, never when it is 0. Values logged on other steps are dropped, so
    logging only on these steps saves the cost of `self.log` and changes nothing logged."""
    return trainer._logger_connector.should_update_logs
