#!/usr/bin/env bash
# Set up xenc from nothing and run every test:   bash tests/run.sh
# Only set up (the README's main job runs after it):   bash tests/run.sh --setup-only
# (a venv in .venv, torch==2.13.0 first so pip takes the CPU wheel, then xenc[dev]; then the checks)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
# (pip on this workplace warns about absent local indexes; that noise is filtered, pip's exit status is kept)
pipi() { python -m pip --disable-pip-version-check -q install "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }
pipi torch==2.13.0
pipi -e ".[dev]"
python -c "import torch, xenc; print('torch', torch.__version__, '| xenc', xenc.__version__)"
echo "== set up in ${SECONDS} s"
if [ "${1:-}" = "--setup-only" ]; then exit 0; fi
# Debian's Chromium for the docs-site browser test (tests/test_site.py); root only, else that test says what to do
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/dev/null 2>&1 \
    || echo "(could not install chromium: the browser test will fail; XENC_SKIP_BROWSER=1 skips it)"
fi

export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [ -z "${XENC_DATA_DIR:-}" ] && [ -d ../shared/data ]; then XENC_DATA_DIR=$(cd ../shared/data && pwd); export XENC_DATA_DIR; fi
if [ -z "${XENC_SEEDS_DIR:-}" ] && [ -d ../shared/seeds ]; then XENC_SEEDS_DIR=$(cd ../shared/seeds && pwd); export XENC_SEEDS_DIR; fi

# Each stage writes its temporary folders (checkpoints, venvs: several GB) into a folder of its own that is
# removed when the stage ends, and at exit whatever the outcome; the free disk is printed before each stage
ROOT_TMP=${TMPDIR:-/tmp}
XENC_TMP=""
trap '[ -z "$XENC_TMP" ] || rm -rf "$XENC_TMP"' EXIT
fresh_tmp() {
  [ -z "$XENC_TMP" ] || rm -rf "$XENC_TMP"
  XENC_TMP=$(mktemp -d "$ROOT_TMP/xenc-tests-XXXXXX")
  export TMPDIR=$XENC_TMP
  echo "(free disk for temporary files: $(df -h --output=avail "$ROOT_TMP" | tail -1 | tr -d ' '))"
}

echo "== 1/3 the package and README are what the notebooks export; the benchmark scripts compile"
fresh_tmp
python tests/check_sync.py
python -m py_compile benchmarks/*.py
echo "== 2/3 every notebook as a test (nbval, strict outputs; nbdev flags honoured)"
fresh_tmp
python -m pytest -p no:cacheprovider -q --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg nbs/
echo "== 3/3 tests/ (the docs site among them)"
fresh_tmp
python -m pytest -p no:cacheprovider -o tmp_path_retention_policy=failed -q tests/
