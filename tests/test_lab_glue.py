"""The chapters' glue record is myst-nb's, byte for byte (lib/cart19/presentation/lab.py).

lab.record writes out myst_nb.glue's four lines so that a chapter's kernel does not import myst_nb
(and with it nbformat, jsonschema and rfc3987-syntax). These tests hold the two to the same
outputs, so a myst-nb release that changes its record fails here rather than in the book.
"""
from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from cart19.presentation import lab  # noqa: E402


def _outputs(fn, *args, **kwargs):
    InteractiveShell.instance()
    with capture_output() as cap:
        fn(*args, **kwargs)
    return [(o.data, o.metadata) for o in cap.outputs]


def _figure():
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    return fig


OBJECTS = {
    "text": "57.9",
    "number": 110,
    "frame": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
    "figure": _figure(),
}


@pytest.mark.parametrize("display", [False, True])
@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_record_equals_myst_nb_glue(kind, display):
    import myst_nb

    ours = _outputs(lab.record, f"n_{kind}", OBJECTS[kind], display=display)
    theirs = _outputs(myst_nb.glue, f"n_{kind}", OBJECTS[kind], display=display)
    assert ours == theirs
    assert len(ours) == 1
    data, metadata = ours[0]
    assert metadata["scrapbook"] == {"name": f"n_{kind}", "mime_prefix": "" if display else lab.GLUE_PREFIX}
    assert all(k.startswith(lab.GLUE_PREFIX) != display for k in data)


def test_prefix_is_myst_nb_s():
    from myst_nb.ext.glue import GLUE_PREFIX

    assert lab.GLUE_PREFIX == GLUE_PREFIX


def test_glue_imports_no_myst_nb():
    """The point of the copy: a chapter's glue imports neither myst_nb nor nbformat."""
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance()\n"
        "from cart19.presentation.lab import glue\n"
        "glue('x', 1)\n"
        "print(sorted(m for m in ('myst_nb', 'nbformat', 'jsonschema') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
