#!/usr/bin/env bash
# Run the test suite once per Keras backend (KERAS_BACKEND is read once, at import).
# Usage: bash tests/run.sh [pytest args...]   Backends: KERAS_SEQ_BACKENDS="tensorflow jax torch"
set -u
python=${PYTHON:-python}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
failed=()
for backend in ${KERAS_SEQ_BACKENDS:-tensorflow jax torch}; do
  echo "=== KERAS_BACKEND=$backend"
  KERAS_BACKEND=$backend "$python" -m pytest -q -p no:cacheprovider "$@"
  status=$?
  # 5 = no tests collected (e.g. a filter matched nothing on this backend): not a failure.
  if [ $status -ne 0 ] && [ $status -ne 5 ]; then failed+=("$backend"); fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED on: ${failed[*]}"
  exit 1
fi
echo "all backends passed"
