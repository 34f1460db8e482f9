"""Drop the files a user's answers switched off."""

import shutil
from pathlib import Path

if not {{ cookiecutter.github_actions }}:
    shutil.rmtree(Path(".github"))
