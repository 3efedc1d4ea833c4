# V5: fitted complexity exponent against the tail index; Signum against the
# bound's exponent, momentum SGD (the positive control, family label "SGD
# ...") against its own rate.
set terminal pngcairo size 1100,560 noenhanced font ',11'
set output out
set xlabel "kappa (largest moment order in (1, 2])"
set ylabel "slope of log T(eps) against log(1/eps)"
set title "V5: measured exponent (per-seed mean, 95% t interval) vs the predicted exponents"
set grid lc rgb '#d0d0d0' lt 1 dt 3
set xrange [1.1:2.1]
set yrange [0:12]
set key outside right top vertical Left reverse
f(k) = (3*k - 2)/(k - 1)
g(k) = k/(k - 1)
sgd(s) = strlen(s) >= 3 && s[1:3] eq "SGD"
# Signum and SGD at the same kappa nudged apart a little, so neither hides the other
dx = 0.012
plot f(x) with lines lw 2 lc rgb "#d62728" title "Signum bound: (3 kappa - 2)/(kappa - 1)", \
     g(x) with lines lw 2 dt (4,4) lc rgb "#2ca02c" title "SGD rate: kappa/(kappa - 1)", \
     2 with lines lw 1.5 dt (8,6) lc rgb "black" title "eps^-2 (deterministic rate)", \
     data using ($1 - dx):(sgd(strcol(7)) ? NaN : $5):6 with yerrorbars pt 7 ps 1.2 lc rgb "#1f77b4" title "Signum, measured (per seed)", \
     data using ($1 - dx):(sgd(strcol(7)) ? NaN : $3) with points pt 6 ps 1.8 lc rgb "#ff7f0e" title "Signum, measured (pooled)", \
     data using ($1 + dx):(sgd(strcol(7)) ? $5 : NaN):6 with yerrorbars pt 5 ps 1.2 lc rgb "#2ca02c" title "momentum SGD (control), per seed", \
     data using ($1 + dx):(sgd(strcol(7)) ? $3 : NaN) with points pt 4 ps 1.8 lc rgb "#8c564b" title "momentum SGD (control), pooled"
