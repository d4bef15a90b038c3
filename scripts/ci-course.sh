#!/usr/bin/env bash
# The CI recipe for a course repository (docs/ci-course.md), run on this repository's example
# course: the `run:` steps of examples/course-ratelimit/.github/workflows/verify.yml executed
# AS WRITTEN (scripts/run_workflow.py parses the YAML; `uses:` steps are done here instead):
#   actions/checkout     the course copied to a scratch GITHUB_WORKSPACE (its repository's top)
#   actions/setup-python this machine's python3
#   upload-artifact      the workflow's reports copied to $COURSE_CI_ARTIFACTS
# The workflow installs `valkey-workshop` by name: here that is a wheel built from this
# checkout, found through PIP_FIND_LINKS and pinned to that file with PIP_CONSTRAINT (so no
# index's valkey-workshop can be picked), and checked after the run to be the one installed.
# Artifacts (junit.xml, mutants.json, list.txt) go to $COURSE_CI_ARTIFACTS (default:
# ci-artifacts/course in the checkout). Exits non-zero when any step fails.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
artifacts=${COURSE_CI_ARTIFACTS:-$repo/ci-artifacts/course}
course=$repo/examples/course-ratelimit
mkdir -p "$artifacts"

say() { echo "ci-course: $*" >&2; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
workspace=$scratch/workspace
runner_temp=$scratch/runner-temp
mkdir -p "$runner_temp" "$scratch/wheels"

# Tools for this script only (the workflow makes its own venv): PyYAML, and setuptools to
# build the engine's wheel without a network.
python3 -m venv "$scratch/tools"
"$scratch/tools/bin/pip" install -q --disable-pip-version-check pyyaml setuptools wheel

say "building the engine's wheel from this checkout"
mkdir "$scratch/engine-src"
tar -C "$repo" --exclude=./.git --exclude=./.venv --exclude=./ci-artifacts --exclude='*.egg-info' \
  --exclude=./build --exclude=./examples -cf - . | tar -C "$scratch/engine-src" -xf -
"$scratch/tools/bin/pip" wheel -q --disable-pip-version-check --no-deps --no-build-isolation \
  -w "$scratch/wheels" "$scratch/engine-src"
wheel=$(ls "$scratch/wheels"/valkey_workshop-*.whl)
echo "valkey-workshop @ file://$wheel" >"$scratch/constraints.txt"

# actions/checkout: the course repository's files (no build leftovers).
mkdir "$workspace"
tar -C "$course" --exclude='*.egg-info' --exclude=build --exclude=__pycache__ -cf - . \
  | tar -C "$workspace" -xf -

unset WORKSHOP_LABS_DIR WORKSHOP_COURSE_PATH
status=0
PIP_FIND_LINKS=$scratch/wheels PIP_CONSTRAINT=$scratch/constraints.txt \
  PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "$scratch/tools/bin/python" "$repo/scripts/run_workflow.py" \
  "$course/.github/workflows/verify.yml" --workspace "$workspace" --runner-temp "$runner_temp" \
  || status=$?

# The engine the workflow ran is this checkout's.
installed=$("$runner_temp/venv/bin/python" -c \
  'import valkey_workshop, pathlib; print(pathlib.Path(valkey_workshop.__file__).parent)')
if ! cmp -s "$installed/naming.py" "$repo/valkey_workshop/naming.py" \
  || ! cmp -s "$installed/cli/app.py" "$repo/valkey_workshop/cli/app.py"; then
  say "the workflow did not install this checkout's engine (found $installed)"
  status=1
fi

# upload-artifact
for report in junit.xml mutants.json list.txt; do
  [ -f "$runner_temp/$report" ] && cp "$runner_temp/$report" "$artifacts/"
done
say "artifacts in $artifacts (junit.xml, mutants.json, list.txt)"
exit "$status"
