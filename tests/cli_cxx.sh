# cli_cxx.sh - a C++ test harness compiles against include/lionmuon/lionmuon.h and links
# liblionmuon.a (the library's promise to C and C++ callers).
. tests/cli_lib.sh
if command -v g++ >/dev/null 2>&1; then
    expect_ok "C++ harness compiles and links against liblionmuon.a" \
        g++ -std=c++11 -Iinclude $(pkg-config --cflags openblas) tests/cxx/link_smoke.cc \
        -o "$CLI_TMP/cxx" liblionmuon.a $(pkg-config --libs openblas lapacke jansson) \
        -lgsl -lm -fopenmp
    expect_ok "C++ harness gets the exact polar factor" "$CLI_TMP/cxx"
else
    echo "  skip C++ link test: g++ not installed"
fi
cli_done cxx
