"""The validation's reconstructions run on a Dask cluster: a local cluster started by the test
gives exactly the results of the local runner (tasks are seeded, so the place they run does
not change them)."""
from __future__ import annotations

import pandas as pd
import pytest

from cart19.validation import runners
from cart19.validation.columns import patient_table
from cart19.validation.run import plan
from test_validation import MAP, synth
from cart19.reconstruction.general_study import study_from_dict


def test_dask_cluster_gives_the_local_results():
    distributed = pytest.importorskip("distributed")
    study = study_from_dict(MAP)
    table = patient_table(synth(60, 4), study)
    tasks = plan(table, study, "synthetic", levels=(1,), k=2, seed=1, iters=3000, explore=50)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = runners.choose(cluster.scheduler_address)(tasks)
    local = runners.local(1)(tasks)
    assert [r["key"] for r in remote] == [t.key for t in tasks]
    for a, b in zip(remote, local):
        pd.testing.assert_frame_equal(pd.DataFrame(a["stats"]), pd.DataFrame(b["stats"]))
        assert {k: v for k, v in a["fit"].items() if k != "seconds"} == \
            {k: v for k, v in b["fit"].items() if k != "seconds"}
