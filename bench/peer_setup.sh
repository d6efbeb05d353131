#!/usr/bin/env bash
# The Python environment of the benchmark's optional peer (issue 17: Hugging Face transformers on PyTorch, run by
# bench/peer_torch.py), kept apart from bertr's own environment: a plain venv at
# ${BERTR_PEER_ENV:-$HOME/.virtualenvs/bertr-peer} with torch, transformers and numpy pinned below.
# Idempotent: an environment that already has the pinned versions is left as it is.
#
#   bash bench/peer_setup.sh            # then: $BERTR_PEER_ENV/bin/python bench/peer_torch.py --help
#
# torch is pinned to the exact release of the CPU build this machine's pip finds on disk (pip's find-links,
# torch-2.13.0+cpu); an unpinned `torch` from the package index would be a multi-GB CUDA build. The script checks
# that the torch it ends with is a CPU build. BERTR_PEER_PYTHON picks the Python that makes the venv (python3).
set -euo pipefail

env_dir="${BERTR_PEER_ENV:-$HOME/.virtualenvs/bertr-peer}"
python="${BERTR_PEER_PYTHON:-python3}"
requirements=(
  "torch==2.13.0"         # the CPU build on disk (2.13.0+cpu)
  "transformers==5.17.0"
  "numpy<2"
  "tokenizers"            # transformers' own pins choose the versions of these
  "safetensors"
)
started=$(date +%s)

installed() {  # the pinned versions are there, and torch is a CPU build
  [[ -x "$env_dir/bin/python" ]] || return 1
  "$env_dir/bin/python" - <<'EOF' 2>/dev/null
import sys
from importlib import metadata

import numpy
import torch
import transformers

ok = (
    metadata.version("torch").split("+")[0] == "2.13.0"
    and metadata.version("transformers") == "5.17.0"
    and int(numpy.__version__.split(".")[0]) < 2
    and torch.version.cuda is None
)
sys.exit(0 if ok else 1)
EOF
}

if installed; then
  echo "peer environment $env_dir: already set up"
else
  if [[ ! -x "$env_dir/bin/python" ]]; then
    echo "creating the venv $env_dir with $($python --version 2>&1)"
    "$python" -m venv "$env_dir"
  fi
  # (pip's warnings about package-index folders this machine lacks are left out; the check below decides)
  "$env_dir/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}" 2>&1 |
    { grep -v "is ignored: it is neither a file nor a directory" || true; }
  if ! installed; then
    echo "peer set-up failed: $env_dir lacks the pinned versions or has a torch that is not a CPU build" >&2
    exit 1
  fi
fi

echo "installed in $env_dir:"
"$env_dir/bin/python" -m pip list --format=freeze --disable-pip-version-check | sed 's/^/  /'
"$env_dir/bin/python" -c 'import sys, torch; print(f"  python {sys.version.split()[0]}, torch CPU build, {torch.get_num_threads()} threads")'
echo "size: $(du -sh "$env_dir" | cut -f1); took $(($(date +%s) - started)) s"
