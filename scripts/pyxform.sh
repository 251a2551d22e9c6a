#!/usr/bin/env bash
# Converts an XLSForm to an XForm with pyxform (the converter ODK Central and Kobo use).
#   scripts/pyxform.sh forms/incident_fr.xlsx forms/incident_fr.xml
# pyxform is installed, pinned, into a virtualenv outside the repository
# (${VIGIE_VENV:-/tmp/vigie-venv}), created on first use. openpyxl comes with it, so the same
# venv also runs forms/build_forms.py.
set -euo pipefail

PYXFORM_VERSION=4.5.0
OPENPYXL_VERSION=3.1.5

if [ $# -ne 2 ]; then
    echo "usage: $0 FORM.xlsx OUT.xml" >&2
    exit 2
fi
in=$1
out=$2
venv=${VIGIE_VENV:-/tmp/vigie-venv}

if ! "$venv/bin/python" -c "import pyxform, openpyxl, sys; sys.exit(pyxform.__version__ != '$PYXFORM_VERSION')" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "pyxform==$PYXFORM_VERSION" "openpyxl==$OPENPYXL_VERSION"
fi

# No ODK Validate (it needs Java): the Vigie domain tests parse the result instead.
# --pretty_print indents the output (its help text says the opposite).
"$venv/bin/xls2xform" --skip_validate --pretty_print "$in" "$out"
