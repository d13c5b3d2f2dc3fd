"""The spec language: schema, loading, validation and the typed `Spec`."""

from keras_seq.spec.errors import Problem, SpecError
from keras_seq.spec.loading import load_spec, make_section, validate
from keras_seq.spec.types import Spec
