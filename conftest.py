"""Root pytest configuration, for the package's doctests.

``pytest`` runs the docstring examples of ``sk_reseq`` (``--doctest-modules``
in pyproject.toml). The examples of a module that needs an optional extra are
left out when the extra is not installed, and the report header says so.
"""

import importlib.util

# Modules (globs relative to this file) -> the modules their examples import.
_EXTRAS = {
    "sk_reseq/features/*.py": ("essentia",),  # the `features` extra
    "sk_reseq/listen/*.py": ("starlette", "pyloudnorm"),  # the `listen` extra
}

_MISSING = {
    pattern: missing
    for pattern, modules in _EXTRAS.items()
    if (missing := [m for m in modules if importlib.util.find_spec(m) is None])
}
collect_ignore_glob = list(_MISSING)


def pytest_report_header(config):
    return [
        f"doctests of {pattern} skipped: {', '.join(missing)} not installed"
        for pattern, missing in _MISSING.items()
    ]
