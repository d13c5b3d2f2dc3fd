#!/usr/bin/env bash
# Run the test suite once per Keras backend (KERAS_BACKEND is read once, at import).
# Usage: bash tests/run.sh [pytest args...]
#   KERAS_SEQ_BACKENDS="jax tensorflow torch"  the backends, longest first
#   KERAS_SEQ_JOBS=N  backends run side by side (default: the number of cores, at most 3); each
#                     backend's output is printed whole when it finishes. The tests are mostly
#                     single-threaded Python and compilation, so two cores nearly halve the time.
set -u
python=${PYTHON:-python}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
backends=(${KERAS_SEQ_BACKENDS:-jax tensorflow torch})
jobs=${KERAS_SEQ_JOBS:-$(nproc)}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_backend() {
  local backend=$1
  KERAS_BACKEND=$backend "$python" -m pytest -q -p no:cacheprovider "${@:2}" >"$logs/$backend.log" 2>&1
  # 5 = no tests collected (e.g. a filter matched nothing on this backend): not a failure.
  local status=$?
  if [ $status -eq 5 ]; then status=0; fi
  echo $status >"$logs/$backend.status"
  echo "=== KERAS_BACKEND=$backend"
  cat "$logs/$backend.log"
}

for backend in "${backends[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  run_backend "$backend" "$@" &
done
wait

failed=()
for backend in "${backends[@]}"; do
  if [ "$(cat "$logs/$backend.status" 2>/dev/null)" != 0 ]; then failed+=("$backend"); fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED on: ${failed[*]}"
  exit 1
fi
echo "all backends passed"
