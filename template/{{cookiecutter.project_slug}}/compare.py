"""Compare the runs of an experiment, offline, from the files the runs wrote.

    python compare.py runs/digits_cnn                          every run, best first (the checkpoint's metric)
    python compare.py runs/digits_cnn --runs 'lr_batch-*'      the trials of one sweep
    python compare.py runs/digits_cnn --metric val/acc         another validation metric
    python compare.py runs/digits_cnn --sort epochs            another order

It prints a table (the settings that differ between the runs, the best validation value and at
which epoch, the newest test, epochs, training time; runs that differ only in their seed as
mean ± std per setting) and writes it as runs/<experiment>/comparison.csv and .md, with a plot
of the metric against each setting (comparison.png).
"""

import sys

if __name__ == "__main__":
    from {{ cookiecutter.package_name }}.compare import main

    sys.exit(main())
