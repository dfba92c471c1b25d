"""cart19: reproduction of Zhang et al., Blood Adv 2020;4(10):2325-2338.

Subpackages by job (lib/cart19/README.md): ``record`` (the published record, design, readings,
audit), ``cohort`` (the schema of a patient-level table), ``reconstruction``, ``stats``,
``comparison`` (published beside reproduced), ``presentation`` (tables, figures) and ``book``
(the build machinery, which knows nothing of the paper).
"""
import os as _os


def _pin_blas_kernel() -> None:
    """Pin OpenBLAS to its Haswell (AVX2) kernels where the CPU has them.

    OpenBLAS picks its kernels by CPU at load time; the AVX-512 kernels round differently in the
    last bits, and the CAR T-cell peak fit (an iterative least-squares solve) amplifies that into
    a different committed cohort on machines with AVX-512. Pinning makes the reconstruction the
    same on every AVX2 machine. Only effective if numpy is not imported yet (the Makefile and the
    build's kernels also set it). Never forced on a CPU without AVX2 (it would not run there)."""
    if "OPENBLAS_CORETYPE" in _os.environ:
        return
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return
    if " avx2" in flags and " fma" in flags:
        _os.environ["OPENBLAS_CORETYPE"] = "Haswell"


_pin_blas_kernel()
__version__ = "0.1.0"
