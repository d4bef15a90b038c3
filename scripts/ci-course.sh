#!/usr/bin/env bash
# The CI recipe for a course repository (docs/ci-course.md), run on this repository's example
# course (examples/course-ratelimit): the engine and the course installed NON-editable into a
# fresh venv, run from outside the checkout (so only the installed files count), then
#   ratelimit-lab list                      the entry point registers the course root
#   ratelimit-lab verify module4            starters fail, solutions pass, answers, demos
#   ratelimit-lab verify module4 --mutants  no surviving mutant (JSON, turned into JUnit)
# Artifacts (JUnit XML, the mutants JSON, the verify output) go to $COURSE_CI_ARTIFACTS
# (default: ci-artifacts/course in the checkout). Exits non-zero when any proof fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
artifacts=${COURSE_CI_ARTIFACTS:-$repo/ci-artifacts/course}
course=$repo/examples/course-ratelimit
mkdir -p "$artifacts"

say() { echo "ci-course: $*" >&2; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python3 -m venv "$scratch/venv"
bin=$scratch/venv/bin
# Build wheels outside the checkout (no build/ or egg-info left in it), then install them.
say "building and installing the engine and the course (non-editable)"
mkdir "$scratch/engine-src"
tar -C "$repo" --exclude=./.git --exclude=./.venv --exclude=./ci-artifacts --exclude='*.egg-info' \
  --exclude=./build -cf - . | tar -C "$scratch/engine-src" -xf -
"$bin/pip" install -q --disable-pip-version-check "$scratch/engine-src"
"$bin/pip" install -q --disable-pip-version-check "$scratch/engine-src/examples/course-ratelimit"

# Outside the checkout, with user state in the scratch folder.
cd "$scratch"
export WORKSHOP_WORKDIR=$scratch/workdir
unset WORKSHOP_LABS_DIR WORKSHOP_COURSE_PATH
backend=${COURSE_CI_BACKEND:-embedded}
export COLUMNS=200  # tables unfolded, so the list line checked below is one line

"$bin/ratelimit-lab" list | tee "$artifacts/list.txt"
if ! grep -q "module4.*package valkey-workshop-course-ratelimit" "$artifacts/list.txt"; then
  say "module4 is not listed as coming from the installed course package"
  exit 1
fi
status=0
"$bin/ratelimit-lab" verify module4 --backend "$backend" | tee "$artifacts/verify.txt" || status=$?
"$bin/ratelimit-lab" verify module4 --mutants --json --backend "$backend" \
  >"$artifacts/mutants.json" || status=$?
"$bin/python" "$course/ci/mutants_junit.py" "$artifacts/mutants.json" "$artifacts/junit.xml" \
  || status=$?
say "artifacts in $artifacts (junit.xml, mutants.json, verify.txt)"
exit "$status"
