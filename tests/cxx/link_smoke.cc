// link_smoke.cc - a C++ harness links the reference through its one public
// header and checks one exact identity: msign of a rotation times a
// positive diagonal is the rotation.
#include <cmath>
#include <cstdio>

#include "lionmuon/lionmuon.h"

int main()
{
    const double c = std::cos(0.4), s = std::sin(0.4);
    // G = R diag(2, 0.25), R = [[c, -s], [s, c]]
    double G[4] = {2 * c, -0.25 * s, 2 * s, 0.25 * c}, X[4];
    msign_opts o = msign_default_opts(MSIGN_SVD);
    msign_ws *ws = msign_ws_alloc(2, 2);
    lm_error e;
    int rc = msign(&o, 2, 2, G, X, ws, nullptr, &e);
    msign_ws_free(ws);
    double R[4] = {c, -s, s, c}, d = 0;
    for (int i = 0; i < 4; i++)
        d = std::fmax(d, std::fabs(X[i] - R[i]));
    std::printf("c++ link: msign error %.3g\n", d);
    return rc == 0 && d < 1e-14 ? 0 : 1;
}
