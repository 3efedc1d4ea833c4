# cli_install.sh - `make install DESTDIR=STAGE PREFIX=/usr` into a staging
# folder, then the installed pieces used the way a user uses them:
#   - tests/cxx/link_smoke.cc compiled with nothing but
#     `pkg-config --cflags --libs lionmuon` and run with LD_LIBRARY_PATH.
#     The .pc file says prefix=/usr (where the files will live); to use the
#     staged copy, `pkg-config --define-prefix` takes the prefix from the .pc
#     file's own location (STAGE/usr/lib/pkgconfig -> STAGE/usr), which works
#     because libdir and includedir are written relative to ${prefix}.
#     pkgconf relocates the dependencies' .pc files by their locations too,
#     which adds a few -I/-L folders that do not exist (harmless);
#     PKG_CONFIG_SYSROOT_DIR=STAGE works as well but puts STAGE in front of
#     the dependencies' paths instead.  Installed for real at PREFIX, plain
#     `pkg-config --cflags --libs lionmuon` is all a user needs;
#   - `import lionmuon` with PYTHONPATH at the staged dist-packages, loading
#     the staged library (found relative to the package);
#   - the installed tool, man page and bash completion; then `make uninstall`.
. tests/cli_lib.sh
S=$CLI_TMP/stage
# a make started from a make recipe (make test) must not join its jobserver
if env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS ${MAKE:-make} -s install DESTDIR="$S" PREFIX=/usr \
        >"$CLI_TMP/install.log" 2>&1; then
    ok "make install DESTDIR=stage PREFIX=/usr"
else
    bad "make install failed: $(tail -5 "$CLI_TMP/install.log")"
    cli_done install
    exit 1
fi
missing=
for f in bin/lionmuon lib/liblionmuon.a lib/liblionmuon.so.0.1.0 lib/liblionmuon.so.0 \
         lib/liblionmuon.so include/lionmuon/lionmuon.h include/lionmuon/api.h \
         include/lionmuon/common.h lib/pkgconfig/lionmuon.pc share/man/man1/lionmuon.1 \
         share/bash-completion/completions/lionmuon lib/python3/dist-packages/lionmuon/__init__.py \
         lib/python3/dist-packages/lionmuon/_install.py; do
    [ -e "$S/usr/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "tool, libraries, headers, lionmuon.pc, man page, completion, Python package installed"
else bad "not installed:$missing"; fi
if [ "$(readlink "$S/usr/lib/liblionmuon.so")" = liblionmuon.so.0 ] &&
   [ "$(readlink "$S/usr/lib/liblionmuon.so.0")" = liblionmuon.so.0.1.0 ]; then
    ok "liblionmuon.so -> liblionmuon.so.0 -> liblionmuon.so.0.1.0"
else
    bad "the library links are wrong"
fi
if grep -qx 'prefix=/usr' "$S/usr/lib/pkgconfig/lionmuon.pc" && grep -qx 'Libs: -L${libdir} -llionmuon' "$S/usr/lib/pkgconfig/lionmuon.pc"; then
    ok "lionmuon.pc: prefix=/usr, Libs: -llionmuon"
else
    bad "lionmuon.pc: $(cat "$S/usr/lib/pkgconfig/lionmuon.pc")"
fi

PC="pkg-config --define-prefix"
export PKG_CONFIG_PATH="$S/usr/lib/pkgconfig"
flags=$($PC --cflags --libs lionmuon 2>"$CLI_TMP/pc.err")
case $flags in *"-I$S/usr/include"*"-L$S/usr/lib"*-llionmuon*) ok "pkg-config --define-prefix: $flags" ;;
    *) bad "pkg-config gave '$flags' $(cat "$CLI_TMP/pc.err")" ;; esac
static=$($PC --static --libs lionmuon 2>/dev/null)
miss=
for l in -llionmuon -lopenblas -llapacke -ljansson -lgsl -fopenmp; do
    case " $static " in *" $l "*) ;; *) miss="$miss $l" ;; esac
done
if [ -z "$miss" ]; then ok "pkg-config --static adds openblas, lapacke, jansson, gsl, OpenMP"
else bad "pkg-config --static lacks$miss: $static"; fi
if command -v g++ >/dev/null 2>&1; then
    expect_ok "link_smoke.cc compiles with only pkg-config --cflags --libs lionmuon" \
        g++ -std=c++11 -DLM_SMOKE_SHARED tests/cxx/link_smoke.cc -o "$CLI_TMP/smoke" $flags
    if LD_LIBRARY_PATH="$S/usr/lib" "$CLI_TMP/smoke" >"$CLI_TMP/smoke.out" 2>&1 &&
       LD_LIBRARY_PATH="$S/usr/lib" ldd "$CLI_TMP/smoke" | grep -q "$S/usr/lib/liblionmuon.so.0"; then
        ok "it runs against the installed liblionmuon.so.0 ($(cat "$CLI_TMP/smoke.out"))"
    else
        bad "link smoke against the installed library: $(cat "$CLI_TMP/smoke.out")"
    fi
else
    echo "  skip C++ link test: g++ not installed"
fi
unset PKG_CONFIG_PATH

PY=${PYTHON:-/usr/bin/python3}
if "$PY" -c "import numpy" 2>/dev/null; then
    if env -u LIONMUON_LIB PYTHONPATH="$S/usr/lib/python3/dist-packages" "$PY" -c "
import numpy, lionmuon
assert lionmuon.library_path.startswith('$S/usr/lib/'), lionmuon.library_path
x = lionmuon.msign(numpy.diag([2.0, -0.5]))
assert (x == numpy.diag([1.0, -1.0])).all(), x
print(lionmuon.__version__, lionmuon.library_path)" >"$CLI_TMP/py.out" 2>&1; then
        ok "import lionmuon from the staged site dir loads the staged library ($(cat "$CLI_TMP/py.out"))"
    else
        bad "installed Python package: $(tail -3 "$CLI_TMP/py.out")"
    fi
else
    echo "  skip Python import: no numpy for $PY"
fi

expect_ok "the installed tool runs (lionmuon --version)" "$S/usr/bin/lionmuon" --version
if command -v groff >/dev/null 2>&1; then
    expect_ok "the man page formats without warnings" sh -c "groff -man -ww -z '$S/usr/share/man/man1/lionmuon.1' 2>&1 | (! grep .)"
fi
if command -v bash >/dev/null 2>&1; then
    got=$(bash -c ". '$S/usr/share/bash-completion/completions/lionmuon'
COMP_WORDS=(lionmuon msign --met); COMP_CWORD=2; _lionmuon; echo \"\${COMPREPLY[*]}\"
COMP_WORDS=(lionmuon msign --method po); COMP_CWORD=3; _lionmuon; echo \"\${COMPREPLY[*]}\"" 2>&1)
    if [ "$got" = "--method
polar-express" ]; then ok "bash completion: subcommand flags and their values"; else bad "bash completion gave: $got"; fi
fi

env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS ${MAKE:-make} -s uninstall DESTDIR="$S" PREFIX=/usr >/dev/null 2>&1
left=$(find "$S" ! -type d | wc -l)
if [ "$left" -eq 0 ]; then ok "make uninstall removes every installed file"; else bad "$left files left after uninstall: $(find "$S" ! -type d | head -3)"; fi
cli_done install
