"""A pytest plugin (``-p cart19.book.pytest_env``, in pyproject.toml's ``addopts``): the kernels that
``pytest --nbval book/`` starts get the environment the build's kernels ran with.

Why: nbval's kernels inherit pytest's environment. Without the build's ``PYTHONHASHSEED``,
``SOURCE_DATE_EPOCH`` and the OpenBLAS kernel pin (``cart19._pin_blas_kernel``: set before numpy
loads, so it must be in the kernel's environment from its start), a plain ``pytest --nbval book/``
typed in a shell saw Cox hazard ratios differ in their last digits from the committed outputs.
Values already set (e.g. by the Makefile) are kept."""
from __future__ import annotations

import os

from cart19.book.execute import KERNEL_ENV  # importing cart19 sets OPENBLAS_CORETYPE first

for _name, _value in KERNEL_ENV.items():
    os.environ.setdefault(_name, _value)
