# cli_quickstart.sh - the README's quick starts, run as written, their shown
# output checked (tests/quickstart.py).
. tests/cli_lib.sh
for q in gpu theory reader; do
    expect_ok "README quick start '$q' runs and shows its output" \
        "${PYTHON:-/usr/bin/python3}" tests/quickstart.py README.md "$q"
done
rm -rf /tmp/lm-quickstart
cli_done quickstart
