"""The scikit-learn internals sk_reseq uses, imported in one place.

scikit-learn keeps these private (a leading underscore or a private module)
and may move them between releases; importing them only here means a new
release breaks one file, where a fallback can go. Everything else in the
package imports them from this module.

- ``Interval``, ``Options``, ``StrOptions``, ``HasMethods``, ``validate_params``: the
  parameter constraints of ``_parameter_constraints`` (what scikit-learn's
  own estimators use for ``_validate_params``).
- ``check_feature_names_in``, ``num_samples``, ``safe_indexing``: input
  helpers scikit-learn's estimators share.
- ``MetadataRequester``: the base that gives a splitter metadata routing.
- ``fit_context``: the decorator of ``fit`` that validates the parameters
  once (and skips nested validation).
"""

from sklearn.base import _fit_context as fit_context
from sklearn.utils import _safe_indexing as safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.metadata_routing import _MetadataRequester as MetadataRequester
from sklearn.utils.validation import _check_feature_names_in as check_feature_names_in
from sklearn.utils.validation import _num_samples as num_samples

__all__ = [
    "HasMethods",
    "Interval",
    "Options",
    "StrOptions",
    "validate_params",
    "check_feature_names_in",
    "num_samples",
    "safe_indexing",
    "MetadataRequester",
    "fit_context",
]
