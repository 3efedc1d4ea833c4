// link_smoke.cc - a C++ harness links the reference through its one public
// header and checks one exact identity: msign of a rotation times a
// positive diagonal is the rotation.  Through the exported C API (lm_msign,
// lionmuon/api.h), which both liblionmuon.a and liblionmuon.so provide;
// and, unless LM_SMOKE_SHARED is defined (the shared library exports the
// lm_* API only), through the internal msign() of liblionmuon.a as well.
// tests/cli_cxx.sh links it statically, tests/cli_install.sh against an
// installed liblionmuon.so with `pkg-config --cflags --libs lionmuon`.
#include <cmath>
#include <cstdio>

#include "lionmuon/lionmuon.h"

static double max_err(const double *X, const double *R)
{
    double d = 0;
    for (int i = 0; i < 4; i++)
        d = std::fmax(d, std::fabs(X[i] - R[i]));
    return d;
}

int main()
{
    const double c = std::cos(0.4), s = std::sin(0.4);
    // G = R diag(2, 0.25), R = [[c, -s], [s, c]]
    double G[4] = {2 * c, -0.25 * s, 2 * s, 0.25 * c}, X[4];
    const double R[4] = {c, -s, s, c};
    int rc = lm_msign("svd", 2, 2, G, X, 0, 0.0, 0.0, nullptr);
    double d = max_err(X, R);
    std::printf("c++ link (%s): lm_msign error %.3g%s%s\n", lm_version(), d, rc ? ": " : "",
                rc ? lm_last_error() : "");
    int bad = rc != 0 || !(d < 1e-14);
#ifndef LM_SMOKE_SHARED
    msign_opts o = msign_default_opts(MSIGN_SVD);
    msign_ws *ws = msign_ws_alloc(2, 2);
    lm_error e;
    rc = msign(&o, 2, 2, G, X, ws, nullptr, &e);
    msign_ws_free(ws);
    d = max_err(X, R);
    std::printf("c++ link: msign error %.3g\n", d);
    bad |= rc != 0 || !(d < 1e-14);
#endif
    return bad;
}
