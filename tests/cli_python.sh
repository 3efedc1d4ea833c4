# cli_python.sh - the Python package python/lionmuon/ (ctypes over
# build/liblionmuon.so) against numpy and against $LM: tests/python/test_lionmuon.py,
# run with Debian's python3 (numpy), its checks counted here.
. tests/cli_lib.sh
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c "import numpy" 2>/dev/null; then
    echo "  skip Python tests: '$PY -c \"import numpy\"' fails (apt-get install python3-numpy)"
elif [ ! -e build/liblionmuon.so.0 ]; then
    bad "build/liblionmuon.so.0 is missing (run make)"
else
    "$PY" tests/python/test_lionmuon.py "$LM" "$CLI_TMP" >"$CLI_TMP/py.log" 2>&1
    rc=$?
    cat "$CLI_TMP/py.log"
    CLI_PASS=$(grep -c '^  ok ' "$CLI_TMP/py.log")
    CLI_FAIL=$(grep -c '^  FAIL ' "$CLI_TMP/py.log")
    [ "$rc" -eq 0 ] || [ "$CLI_FAIL" -ne 0 ] || bad "test_lionmuon.py exited $rc: $(tail -3 "$CLI_TMP/py.log")"
fi
cli_done python
