#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter: on PATH, else one that pyenv keeps.
for cand in python3.13 python3.12 python3; do
  if p=$(command -v "$cand" 2>/dev/null) && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    echo "$p"; exit 0
  fi
done
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for p in $(ls -d "$root"/versions/3.12*/bin/python3 2>/dev/null | sort -V -r) $(ls -d "$root"/versions/3.13*/bin/python3 2>/dev/null | sort -V -r); do
  if "$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then echo "$p"; exit 0; fi
done
exit 1
