"""The networks: plain `nn.Module`s written as the tutorials write them.

They know nothing about training; a task in `tasks/` trains any of them.
"""

from {{ cookiecutter.package_name }}.models.cnn import Net

__all__ = ["Net"]
