# Shared by the interop scripts (source it): timing helpers and the throwaway virtualenv.

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ensure_venv NAME CHECK PACKAGE...: sets VENV to $INTEROP_VENV, or to a fresh directory under
# ${TMPDIR:-/tmp} (also recorded in CREATED_VENV, for the caller's cleanup to remove); creates the
# virtualenv with $PY if needed, and pip-installs PACKAGE... unless the Python snippet CHECK
# already succeeds in it.
ensure_venv() {
    local name="$1" check="$2"
    shift 2
    if [ -n "${INTEROP_VENV:-}" ]; then
        VENV="$INTEROP_VENV"
    else
        VENV="$(mktemp -d "${TMPDIR:-/tmp}/miid-$name-venv.XXXXXX")"
        CREATED_VENV="$VENV"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        "$PY" -m venv "$VENV"
    fi
    if ! "$VENV/bin/python" -c "$check" 2>/dev/null; then
        echo "== installing $* into $VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
    fi
}
